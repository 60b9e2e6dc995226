#!/usr/bin/env bash
# Pose models on CUDA against the CPU on one GPU machine (issue #12 item 6): training steps/s and prediction frames/s
# of the same synthetic project, model and video, as `bench …` lines. Needs a built tree (swift build -c release) and
# a CUDA build of libtorch of a version the shim compiles against (KINEMA_LIBTORCH=DIR, a folder with include/ and
# lib/). Written without a GPU at hand: nothing here could run it.
# Usage: KINEMA_LIBTORCH=/path/to/libtorch scripts/gpu/pose-cuda.sh [OUT_DIR] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${KINEMA_LIBTORCH:?set KINEMA_LIBTORCH to a CUDA build of libtorch (a folder with include/ and lib/)}"
out=$(mkdir -p "${1:-/tmp/kinema-pose-cuda}" && cd "${1:-/tmp/kinema-pose-cuda}" && pwd)
epochs=${2:-3}
kinema=$PWD/.build/release/kinema
scripts/build-shim.sh "$KINEMA_LIBTORCH" "$out/shim" >/dev/null
export KINEMA_LIBTORCH=$KINEMA_LIBTORCH/lib KINEMA_TORCH_SHIM=$out/shim/libKinemaTorchShim.so
cd "$out"
"$kinema" info | grep -i -E "libtorch|cuda|device" || true
# A synthetic project: 96 labelled 256² frames (input 128²) and a 900-frame video.
[ -f demo/project/config.yaml ] || "$kinema" demo --directory demo --epochs 1 --labeled-frames 96 --video-frames 900 >demo.log 2>&1
video=demo/project/videos/walk.mp4
run() {  # NAME DEVICE PRECISION [train options…]
  local name=$1 device=$2 precision=$3; shift 3
  rm -rf "m-$name" "p-$name"
  "$kinema" train demo/project/config.yaml --model-dir "m-$name" --epochs "$epochs" --no-videos --device "$device" \
    --precision "$precision" "$@" >"train-$name.log" 2>&1
  # steps/s over the epochs after the first (metrics.csv: epoch,step,…,elapsed_s; validation included)
  awk -F, -v n="$name" 'NR == 2 { s = $2; t = $7 } NR > 2 { s2 = $2; t2 = $7 }
    END { if (t2 > t) printf "bench train %s: %.2f steps/s (%d steps in %.1f s)\n", n, (s2 - s) / (t2 - t), s2 - s, t2 - t }' \
    "m-$name/metrics.csv"
  "$kinema" predict "m-$name" "$video" --output "p-$name" --device "$device" --precision "$precision" 2>&1 |
    sed -n "s/.*: \([0-9]*\) frames in \([0-9.]*\) s (\([0-9.]*\) frames\/s.*/bench predict $name: \3 frames\/s (\1 frames in \2 s)/p"
}
for backbone in unet resnet50; do
  extra=(); [ "$backbone" = resnet50 ] && extra=(--backbone resnet50 --image-size 256)
  run "$backbone-cuda-fp32" cuda fp32 "${extra[@]}"
  run "$backbone-cuda-bf16" cuda bf16 "${extra[@]}"
  run "$backbone-cpu-fp32" cpu fp32 "${extra[@]}"
done
# The context model on CUDA: its video prediction tiles features (no 5× recompute).
run unet-context-cuda-fp32 cuda fp32 --model-type heatmap_mhcrnn
