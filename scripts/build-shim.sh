#!/usr/bin/env bash
# Builds the C shim alone as libctorch.so against a libtorch (for machines without the Swift toolchain, e.g. a
# GPU box whose torch differs from ours). Usage: scripts/build-shim.sh [LIBTORCH_DIR] [OUT_DIR]
#   LIBTORCH_DIR: a folder with include/ and lib/ (default: the one in .deps/libtorch.env).
# The C++ standard and ABI follow the libtorch found, as in scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then
  include=$1/include lib=$1/lib
else
  # shellcheck disable=SC1091
  . .deps/libtorch.env
  include=$LIBTORCH_INCLUDE lib=$LIBTORCH_LIB
fi
out=${2:-.build-shim}
vh=$include/torch/csrc/api/include/torch/version.h
[ -f "$include/torch/headeronly/version.h" ] && vh=$include/torch/headeronly/version.h
minor=$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\)/\1/p' "$vh")
std=c++17; [ "$minor" -ge 13 ] && std=c++20
abi=0; [ "$( (nm -D "$lib/libc10.so" 2>/dev/null || true) | grep -c __cxx11 || true)" -gt 0 ] && abi=1
mkdir -p "$out"
g++ -std=$std -O2 -fPIC -shared -D_GLIBCXX_USE_CXX11_ABI=$abi -isystem "$include" \
  -isystem "$include/torch/csrc/api/include" -idirafter Sources/CTorch/gloo-declarations -ISources/CTorch/include \
  Sources/CTorch/ctorch.cpp Sources/CTorch/ctorch_distributed.cpp \
  -o "$out/libctorch.so" -L"$lib" -ltorch_cpu -lc10 -ldl -Wl,-rpath,"$lib"
echo "built $out/libctorch.so ($std, cxx11 abi=$abi) against $lib"
