#!/usr/bin/env bash
# The baseline of `kinema bench smooth`: runs jobs of the Python package ensemble-kalman-smoother (EKS)
# 4.6.2 (the version of the goldens and fixtures in Tests/) and times each as a whole process.
#
# usage:  bash scripts/bench/eks-baseline.sh [--reuse-venv] list | JOB...
#   prints per job one line `JOB<TAB>process seconds<TAB>s,s,...` on stdout (progress on stderr).
#   Job names: `list`. Each job runs in its own Python process (fresh imports and JIT), from the
#   start of python to its exit; outputs go to a scratch folder that is removed afterwards.
#
# environment:
#   EKS_VENV      the venv (default /tmp/eks-baseline-venv); made when missing or without
#                 --reuse-venv: ensemble-kalman-smoother==4.6.2 with the pins below (a few minutes).
#   EKS_DATA      default <repo>/Tests/Data/eks              (singlecam, mirrored-multicam, multicam)
#   EKS_FIXTURES  default <repo>/Tests/SmoothingTests/Fixtures (calibrated, pupil, paw)
#   EKS_EXAMPLES  optional: the package's own data/ folder (ibl-pupil, fly, ibl-paw) for the
#                 examples/... jobs, the sizes users run (github.com/paninski-lab/eks, tag v4.6.2).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VENV=${EKS_VENV:-/tmp/eks-baseline-venv}
export EKS_DATA=${EKS_DATA:-$REPO/Tests/Data/eks}
export EKS_FIXTURES=${EKS_FIXTURES:-$REPO/Tests/SmoothingTests/Fixtures}
export EKS_EXAMPLES=${EKS_EXAMPLES:-}
export JAX_PLATFORMS=cpu
SCRATCH=$(mktemp -d /tmp/eks-baseline.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

REUSE=0
if [ "${1:-}" = "--reuse-venv" ]; then REUSE=1; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [--reuse-venv] list | JOB..." >&2; exit 2; }

# Every package of the environment the goldens and fixtures were made in (EKS 4.6.2 and its
# dependencies as resolved then), so that the baseline does not drift with new releases.
cat > "$SCRATCH/constraints.txt" <<'EOF'
absl-py==2.5.1
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
aniposelib==0.8.0
anyio==4.16.0
apsw==3.54.1.0
apswutils==0.1.2
attrs==26.1.0
beautifulsoup4==4.15.0
certifi==2026.10.18
chex==0.1.90
click==8.5.1
cloudpickle==3.1.2
colorcet==3.2.1
contourpy==1.3.3
cycler==0.12.1
decorator==5.3.1
dm-tree==0.1.10
dynamax==1.0.1
ensemble-kalman-smoother==4.6.2
fastcore==2.2.39
fastlite==0.2.4
fastprogress==1.1.6
fonttools==4.68.0
frozenlist==1.8.0
fsspec==2026.9.0
gast==0.7.0
h11==0.16.0
h5py==3.16.0
hdmf==6.2.0
httpcore==1.0.9
httptools==0.9.0
httpx==0.28.1
idna==3.20
ImageIO==2.38.1
imageio-ffmpeg==0.8.1
itsdangerous==2.2.0
jax==0.4.36
jaxlib==0.4.36
jaxtyping==0.3.11
joblib==1.6.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
kiwisolver==1.5.1
lazy-loader==0.6
llvmlite==0.50.0
markdown-it-py==4.3.0
matplotlib==3.11.2
mdurl==0.1.2
ml_dtypes==0.6.0
multidict==7.2.1
narwhals==2.29.0
ndx-multisubjects==0.1.1
ndx-pose==0.4.0
numba==0.68.1
numpy==2.4.6
oauthlib==4.0.1
opencv-contrib-python==5.0.0.93
opencv-python-headless==5.0.0.93
opt_einsum==3.4.0
optax==0.2.5
packaging==26.3
pandas==3.1.1
pillow==13.0.0
platformdirs==4.14.7
propcache==0.5.4
pybind11==3.1.0
Pygments==2.21.0
pynwb==4.2.0
pyparsing==3.3.3
python-dateutil==4.0.0
python-dotenv==1.2.4
python-fasthtml==0.12.50
python-multipart==0.0.34
PyYAML==6.0.3
referencing==0.37.0
rich==15.0.0
rich-click==1.9.9
rpds-py==2026.9.1
ruamel.yaml==0.19.1
scikit-learn==1.9.1
scipy==1.17.1
shapely==2.2.0
simplejson==4.3.0
six==1.17.0
skia-python==144.1
sleap-io==0.9.5
soupsieve==4.1.2
starlette==1.10.0
tensorflow-probability==0.25.0
threadpoolctl==3.8.0
tifffile==2026.3.3
toml==0.10.2
toolz==1.2.0
tqdm==4.70.1
typing_extensions==4.16.0
tzdata==2026.6
uvicorn==0.54.0
uvloop==0.23.0
wadler_lindig==0.1.8
watchfiles==1.3.0
websockets==17.4
wrapt==2.5.2
yarl==1.25.1
EOF

if [ $REUSE -eq 0 ] || [ ! -x "$VENV/bin/python" ]; then
  echo "[eks-baseline] creating $VENV (ensemble-kalman-smoother 4.6.2, pinned; a few minutes)" >&2
  rm -rf "$VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q -c "$SCRATCH/constraints.txt" ensemble-kalman-smoother==4.6.2
fi
PY="$VENV/bin/python"

if [ "$1" = "list" ]; then "$PY" "$HERE/eks_run.py" list; exit 0; fi

status=0
for job in "$@"; do
  out="$SCRATCH/${job//\//_}"
  t0=$(date +%s%N)
  if result=$("$PY" "$HERE/eks_run.py" "$job" "$out" 2> "$SCRATCH/stderr" | tail -1); then
    t1=$(date +%s%N)
    s=$("$PY" -c 'import json,sys; print(",".join(f"{v:.9g}" for v in json.loads(sys.argv[1])["s"]))' "$result")
    printf '%s\t%.3f\t%s\n' "$job" "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$s"
    echo "[eks-baseline] $result" >&2
  else
    tail -3 "$SCRATCH/stderr" >&2
    echo "[eks-baseline] FAILED $job" >&2
    status=1
  fi
  rm -rf "$out"
done
exit $status
