#!/usr/bin/env bash
# The whole labelling loop on Lightning Pose's mirror-mouse example, as a lab runs it with Kinema alone:
#   create a project -> extract 20 frames by k-means -> label them in the browser -> train a 3-member ensemble ->
#   predict test_vid.mp4 with EKS -> extract 10 outlier frames -> refine them in the browser -> merge -> retrain.
#
#   scripts/examples/labelling-loop.sh [WORK_DIR]        (default /tmp/kinema-labelling-loop; ~15-30 min on 2 cores)
#
# The labeller is a script (scripted_labeller.py) that drives headless Chromium through chromedriver against
# `kinema label`, clicking, dragging and pressing keys as a person would. Its answers come from a reference: a model
# trained first on the example's 90 human-labelled frames (step 0, not part of the loop's time), which predicts
# every frame of test_vid.mp4; it stands in for the person's eye.
# Needs a release build (`make build`), chromium and chromedriver (apt-get install chromium chromium-driver), python3.
# KINEMA (the binary), EPOCHS (per ensemble member, 40), REFERENCE_EPOCHS (40) and IMAGE_SIZE (128) change the defaults.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kinema=${KINEMA:-$root/.build/release/kinema}
data=$root/Tests/Data/mirror-mouse-example
work=${1:-/tmp/kinema-labelling-loop}
epochs=${EPOCHS:-40}
size=${IMAGE_SIZE:-128}
video=$data/videos/test_vid.mp4
[[ -x $kinema ]] || { echo "labelling-loop: no kinema binary at $kinema (run make build, or set KINEMA)" >&2; exit 1; }
for tool in chromium chromedriver python3; do
    command -v "$tool" >/dev/null || { echo "labelling-loop: needs $tool (apt-get install chromium chromium-driver)" >&2; exit 1; }
done

say() { echo "labelling-loop $(date +%T): $*" >&2; }
steps=()
step() {  # step NAME COMMAND...: runs and times one step of the loop
    local name=$1 start=$SECONDS
    shift
    say "$name"
    "$@"
    steps+=("$(printf '%-34s %5d s' "$name" $((SECONDS - start)))")
}

# kinema label in the background, driven by the scripted labeller; the server stops when the labeller is done.
label() {
    local log=$work/label-$1.log
    "$kinema" label "$work/project" --no-browser >"$log" 2>&1 &
    local server=$!
    local url=""
    for _ in $(seq 100); do
        url=$(grep -o 'http://127.0.0.1:[0-9]*/?token=[0-9a-f]*' "$log" | head -1 || true)
        [[ -n $url ]] && break
        kill -0 $server 2>/dev/null || { cat "$log" >&2; exit 1; }
        sleep 0.1
    done
    [[ -n $url ]] || { echo "labelling-loop: kinema label printed no URL" >&2; kill $server; exit 1; }
    python3 "$here/scripted_labeller.py" "$url" "$work/reference/test_vid.csv" || { kill -INT $server; exit 1; }
    kill -INT $server
    wait $server || true
}

keypoints=$(sed -n '/keypoint_names:/,/mirrored_column_matches:/p' "$data/lp-config.yaml" | sed -n 's/^ *- //p' | paste -sd, -)
mkdir -p "$work"
loop_start=$SECONDS

# 0. The reference labeller's eye (kept between runs of this script; not part of the loop).
if [[ ! -f $work/reference/test_vid.csv ]]; then
    say "0. reference: training on the example's 90 human labels ($data), then predicting test_vid.mp4"
    rm -rf "$work/reference-model"
    "$kinema" train "$data/lp-config.yaml" --backbone unet --image-size "$size" --epochs "${REFERENCE_EPOCHS:-40}" \
        --losses none --no-videos --model-dir "$work/reference-model"
    "$kinema" predict "$work/reference-model" "$video" --output "$work/reference"
fi
loop_start=$SECONDS
rm -rf "$work/project" "$work/predictions-iter0" "$work/predictions-iter1"

step "1. project create" "$kinema" project create "$work/project" --videos "$video" --keypoints "$keypoints" \
    --skeleton paw1LH_top-tailBase_top,paw4RH_top-tailBase_top,tailBase_top-tailMid_top,nose_top-paw2LF_top
# The project trains at the loop's speed: a small input, a few epochs per member.
sed -i "s/^\(    width:\).*/\1 $size/; s/^\(    height:\).*/\1 $size/" "$work/project/config.yaml"
step "2. extract-frames (k-means, 20)" "$kinema" extract-frames "$work/project" --method kmeans --count 20 --seed 1
step "3. label (scripted browser)" label iter0
# Models go where `kinema train` puts them by default, run from the project: models/<name>-ensemble-<date> now,
# models/iteration-1/… after the merge (DeepLabCut's iteration folders).
cd "$work/project"
step "4. train ensemble of 3" "$kinema" train config.yaml --ensemble 3 --epochs "$epochs" --no-videos
ensemble0=$(ls -d "$work"/project/models/*ensemble* | tail -1)
step "5. predict test_vid.mp4 + EKS" "$kinema" predict "$ensemble0" "$video" --output "$work/predictions-iter0"
step "6. outliers (10 frames)" "$kinema" outliers "$work/project" "$work/predictions-iter0/test_vid.csv" --count 10
step "7. refine (scripted browser)" label iter1
step "8. merge" "$kinema" merge "$work/project"
step "9. retrain ensemble of 3" "$kinema" train config.yaml --ensemble 3 --epochs "$epochs" --no-videos
loop_seconds=$((SECONDS - loop_start))
ensemble1=$(ls -d "$work"/project/models/iteration-1/*ensemble* | tail -1)

# How far each iteration's EKS result is from the reference on every frame of the video (not part of the loop).
"$kinema" predict "$ensemble1" "$video" --output "$work/predictions-iter1" >/dev/null
python3 "$here/compare_to_reference.py" "$work/reference/test_vid.csv" \
    "iteration 0 (20 labels)=$work/predictions-iter0/test_vid.csv" \
    "iteration 1 (30 labels)=$work/predictions-iter1/test_vid.csv"

echo
echo "The labelling loop on mirror-mouse-example ($(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${steps[@]}"
printf '%-34s %5d s\n' "loop in all" "$loop_seconds"
echo "project: $work/project (CollectedData.csv: $(($(wc -l <"$work/project/CollectedData.csv") - 3)) labelled frames)"
