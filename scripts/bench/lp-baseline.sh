#!/usr/bin/env bash
# Lightning Pose's own figures for `kinema bench train|predict`: LP 2.4.3 (PyPI, CPU) trains LP's configuration
# on the repository's mirror-mouse example (ResNet-50 heatmap model from random init, 256x256, batch 16,
# supervised losses only, LP's 0.8/0.1 split with seed 42), then predicts its labelled frames and
# videos/test_vid.mp4. The benches compare against the summary it writes.
#
#   scripts/bench/lp-baseline.sh [--skip-train]      (15 epochs: ~20 min on 2 quiet cores, a ~3 GB venv once)
#
# EPOCHS (15), KINEMA_LP_DIR (/tmp/kinema-lp-baseline; the venv, a copy of the data and the model live there),
# PYTHON (python3.11), LP_DATA (Tests/Data/mirror-mouse-example) and LP_VIDEO (the data's videos/test_vid.mp4, the
# video predicted) change the defaults.
# Writes $KINEMA_LP_DIR/model-e$EPOCHS/peer_summary.json and ends with one line `RESULT lp key=value …`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=${KINEMA_LP_DIR:-/tmp/kinema-lp-baseline}
epochs=${EPOCHS:-15}
data=${LP_DATA:-$root/Tests/Data/mirror-mouse-example}
venv=$dir/venv
model=$dir/model-e$epochs
skip_train=()
[[ ${1:-} == --skip-train ]] && skip_train=(--skip-train)

say() { echo "lp-baseline $(date +%T): $*" >&2; }

# The venv, from the pinned list (no resolver run: see lp-requirements.txt). aniposelib brings
# opencv-contrib-python, which must be installed last because three OpenCV packages share cv2/.
if ! "$venv/bin/python" -c "import lightning_pose, torch, cv2" 2>/dev/null; then
    say "creating $venv (LP 2.4.3 and its pinned dependencies)"
    rm -rf "$venv"
    mkdir -p "$dir"
    "${PYTHON:-python3.11}" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$here/lp-requirements.txt"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps opencv-contrib-python==5.0.0.93
fi

# LP writes next to its data (and resolves paths in its config), so it works on a copy.
if [[ ! -f $dir/mirror-mouse-example/CollectedData.csv ]]; then cp -r "$data" "$dir/mirror-mouse-example"; fi
copy=$dir/mirror-mouse-example
[[ ${#skip_train[@]} -gt 0 ]] || rm -rf "$model"
say "training $epochs epochs into $model (log: $dir/run-e$epochs.log)"
# Progress bars redraw with \r; one line per update keeps the log readable.
"$venv/bin/python" "$here/lp_baseline.py" --config "$copy/lp-config.yaml" --data-dir "$copy" --out "$model" \
    --epochs "$epochs" --video "${LP_VIDEO:-$copy/videos/test_vid.mp4}" "${skip_train[@]}" 2>&1 \
    | stdbuf -oL tr '\r' '\n' | grep --line-buffered -v -E 'it/s\]|s/it\]|^\s*$' | tee "$dir/run-e$epochs.log"
"$venv/bin/python" "$here/lp_baseline.py" --result "$model/peer_summary.json"
