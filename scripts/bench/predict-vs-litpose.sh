#!/usr/bin/env bash
# `kinema predict` against `litpose predict` (issue #14, item 3): the two commands as a user runs them, whole
# processes from launch to exit (start-up, model loading, decoding, the network, CSVs and the per-frame metrics both
# write), LP's architecture for both (ResNet-50, 256x256, 17 keypoints, each tool's default batch), on the same
# video, in interleaved rounds so that a shared machine's slow and quiet phases fall on both alike. The median of
# the rounds' ratios is the result; wall times are printed per round with the load average.
#
#   scripts/bench/predict-vs-litpose.sh [ROUNDS] [VIDEO]    (3 rounds; LP's copy of test_vid.mp4)
#
# Needs lp-baseline.sh run once (its venv and LP's model; any EPOCHS, e.g. EPOCHS=1: untrained weights are as fast
# as trained ones). Kinema's model is trained here once, for one epoch, in the same configuration.
# KINEMA_LP_DIR and EPOCHS select the lp-baseline.sh folder and model (as there); KINEMA the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-3}
dir=${KINEMA_LP_DIR:-/tmp/kinema-lp-baseline}
lp_model=$dir/model-e${EPOCHS:-15}
kinema=${KINEMA:-$root/.build/release/kinema}
video=$(realpath "${2:-$dir/mirror-mouse-example/videos/test_vid.mp4}")
kinema_model=$dir/kinema-resnet50-256
[[ -x $dir/venv/bin/litpose && -f $lp_model/config.yaml ]] ||
    { echo "predict-vs-litpose: no LP venv or model in $dir: run scripts/bench/lp-baseline.sh first" >&2; exit 1; }
if [[ ! -f $kinema_model/config.yaml ]]; then
    echo "predict-vs-litpose: training Kinema's ResNet-50 256² model for one epoch into $kinema_model" >&2
    "$kinema" train "$dir/mirror-mouse-example/lp-config.yaml" --backbone resnet50 --image-size 256 --epochs 1 \
        --losses none --model-type heatmap --no-videos --model-dir "$kinema_model" --overwrite >/dev/null
fi
frames=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$video")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
seconds() {  # seconds COMMAND...: wall seconds of one whole process (its output kept in $out/log)
    local start end
    start=$(date +%s.%N)
    "$@" >"$out/log" 2>&1 || { tail -5 "$out/log" >&2; echo "predict-vs-litpose: failed: $*" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}
echo "video $video ($frames frames); $(nproc) cores; LP $lp_model; Kinema $kinema_model"
ratios=()
for round in $(seq "$rounds"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    lp=$(seconds "$dir/venv/bin/litpose" predict "$lp_model" "$video" --overwrite --skip_viz)
    k=$(seconds "$kinema" predict "$kinema_model" "$video" --output "$out/kinema")
    ratio=$(echo "scale=3; $lp / $k" | bc)
    ratios+=("$ratio")
    printf 'round %d: litpose predict %.1f s (%.2f frames/s), kinema predict %.1f s (%.2f frames/s), ratio %s (load %s)\n' \
        "$round" "$lp" "$(echo "$frames / $lp" | bc -l)" "$k" "$(echo "$frames / $k" | bc -l)" "$ratio" "$load"
done
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}')
echo "bench predict_resnet50_256_whole_command $median ratio ratio=$median vs litpose-2.4.3 (median of $rounds interleaved rounds; > 1: kinema faster)"
