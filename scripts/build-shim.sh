#!/usr/bin/env bash
# Builds Kinema's libtorch shim (Sources/CTorchShim) alone, as libKinemaTorchShim.so, against another libtorch than
# the one `swift build` used, e.g. a GPU machine's CUDA build of another version. `kinema` loads it at run time with
#   KINEMA_LIBTORCH=LIBTORCH_DIR/lib KINEMA_TORCH_SHIM=OUT_DIR/libKinemaTorchShim.so kinema ...
# (one binary for CPU and CUDA: a shim built against a CUDA libtorch also runs on its CPU). `swift build` builds the
# shim for the libtorch set-up found, beside the executables, with nothing to set.
# Usage: scripts/build-shim.sh [LIBTORCH_DIR] [OUT_DIR]
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
  -isystem "$include/torch/csrc/api/include" -idirafter Sources/CTorchShim/gloo-declarations -ISources/CTorch/include \
  Sources/CTorchShim/ctorch.cpp Sources/CTorchShim/ctorch_distributed.cpp Sources/CTorchShim/ctorch_meta.cpp \
  -o "$out/libKinemaTorchShim.so" -L"$lib" -ltorch_cpu -lc10 -ldl -Wl,-rpath,"$lib"
echo "built $out/libKinemaTorchShim.so ($std, cxx11 abi=$abi) against $lib"
echo "use it with: KINEMA_LIBTORCH=$lib KINEMA_TORCH_SHIM=$(cd "$out" && pwd)/libKinemaTorchShim.so kinema ..."
