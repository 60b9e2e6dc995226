#!/usr/bin/env bash
# Kinema set-up: system packages (FFmpeg -dev, pkg-config) and libtorch, idempotent.
#
# libtorch is found as tch-rs finds it:
#   1. $LIBTORCH            a folder with include/ and lib/ (e.g. an unpacked libtorch zip)
#   2. a Python whose torch imports: $TORCH_PYTHON, else python3
#   3. else PyPI's torch wheel (pinned), downloaded with `pip download --no-deps` into .deps/
#      with the two small CUDA runtime wheels libtorch_cpu.so needs at load time.
# The result is written to .deps/libtorch.env, which Package.swift and the Makefile read.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEPS=$ROOT/.deps
TORCH_VERSION=2.15.0
CUDA_WHEEL_VERSION=13.2.75
mkdir -p "$DEPS"

say() { echo "setup: $*" >&2; }

# --- system packages ---------------------------------------------------------
need_apt=()
pkg-config --exists libavformat libavcodec libswscale libavutil 2>/dev/null || need_apt+=(pkg-config libavformat-dev libavcodec-dev libswscale-dev libavutil-dev)
command -v ffmpeg >/dev/null 2>&1 || need_apt+=(ffmpeg)
command -v unzip >/dev/null 2>&1 || need_apt+=(unzip)
ldconfig -p 2>/dev/null | grep 'libhdf5\(_serial\)\?\.so\.' >/dev/null || need_apt+=(libhdf5-dev)  # DLC .h5 files (dlopen'ed by PoseFormats)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# --- libtorch ----------------------------------------------------------------
include="" lib="" source=""
if [ -n "${LIBTORCH:-}" ]; then
  [ -d "$LIBTORCH/include" ] && [ -d "$LIBTORCH/lib" ] || { say "LIBTORCH=$LIBTORCH has no include/ and lib/ folders"; exit 1; }
  include=$LIBTORCH/include lib=$LIBTORCH/lib source="LIBTORCH"
else
  py=${TORCH_PYTHON:-python3}
  if dir=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null); then
    include=$dir/include lib=$dir/lib source="python ($py)"
  else
    unpack=$DEPS/torch-$TORCH_VERSION
    if [ ! -f "$unpack/.complete" ]; then
      say "downloading torch $TORCH_VERSION from PyPI (~540 MB, once)"
      mkdir -p "$DEPS/wheels"
      pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 --platform manylinux_2_28_x86_64 --platform manylinux_2_25_x86_64 --platform manylinux_2_17_x86_64 \
        -d "$DEPS/wheels" "torch==$TORCH_VERSION" \
        "nvidia-cuda-runtime==$CUDA_WHEEL_VERSION" "nvidia-cuda-cupti==$CUDA_WHEEL_VERSION"
      rm -rf "$unpack" && mkdir -p "$unpack"
      for w in "$DEPS"/wheels/torch-"$TORCH_VERSION"-*.whl "$DEPS"/wheels/nvidia_cuda_runtime-"$CUDA_WHEEL_VERSION"-*.whl "$DEPS"/wheels/nvidia_cuda_cupti-"$CUDA_WHEEL_VERSION"-*.whl; do
        unzip -q -o "$w" 'torch/lib/*' 'torch/include/*' 'nvidia/*' -d "$unpack" 2>/dev/null || [ $? -eq 11 ]
      done
      touch "$unpack/.complete"
    fi
    include=$unpack/torch/include lib=$unpack/torch/lib source="PyPI wheel torch==$TORCH_VERSION"
  fi
fi

vh=$include/torch/csrc/api/include/torch/version.h
[ -f "$include/torch/headeronly/version.h" ] && vh=$include/torch/headeronly/version.h
major=$(sed -n 's/^#define TORCH_VERSION_MAJOR \([0-9]*\)/\1/p' "$vh")
minor=$(sed -n 's/^#define TORCH_VERSION_MINOR \([0-9]*\)/\1/p' "$vh")
[ -n "$major" ] && [ -n "$minor" ] || { say "cannot read the libtorch version from $vh"; exit 1; }
[ "$major" -ge 2 ] || { say "libtorch $major.$minor is too old: Kinema needs libtorch 2.x"; exit 1; }
# torch >= 2.13 headers require C++20; older ones build (and 1.x only builds) as C++17.
std=c++17; [ "$minor" -ge 13 ] && std=c++20
# Same test as tch-rs: the library exports std::__cxx11 symbols exactly when built with the new ABI.
abi=0; [ "$( (nm -D "$lib/libc10.so" 2>/dev/null || true) | grep -c __cxx11 || true)" -gt 0 ] && abi=1
cuda=0; [ -f "$lib/libtorch_cuda.so" ] && cuda=1

cat > "$DEPS/libtorch.env.tmp" <<ENV
LIBTORCH_SOURCE=$source
LIBTORCH_VERSION=$major.$minor
LIBTORCH_INCLUDE=$include
LIBTORCH_LIB=$lib
LIBTORCH_CXX_STD=$std
LIBTORCH_CXX11_ABI=$abi
LIBTORCH_HAS_CUDA_LIB=$cuda
ENV
mv "$DEPS/libtorch.env.tmp" "$DEPS/libtorch.env"
say "libtorch $major.$minor from $source ($std, cxx11 abi=$abi) -> .deps/libtorch.env"
