#!/usr/bin/env bash
# A Python venv with PyTorch (the same torch version as Kinema's libtorch), used ONLY as the baseline that
# `kinema bench` measures against. Idempotent; prints the venv's python path on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${KINEMA_BENCH_VENV:-$PWD/.venv-bench}
TORCH_VERSION=$(sed -n 's/^TORCH_VERSION=//p' scripts/setup.sh)
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, numpy; assert torch.__version__.startswith('$TORCH_VERSION')" 2>/dev/null; then
  echo "bench-venv: creating $VENV with torch==$TORCH_VERSION (PyPI, with its CUDA runtime wheels; several GB, once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "torch==$TORCH_VERSION" numpy >&2
fi
echo "$VENV/bin/python"
