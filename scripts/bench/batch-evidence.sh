#!/usr/bin/env bash
# Evidence for issue #15 (batch prediction over many videos): one batch of short synthetic videos
#   1. through the local worker pool (`kinema predict MODEL --videos DIR --output OUT --workers 2`),
#   2. through a Slurm job array (`--slurm --videos-per-task K`, followed by `kinema jobs wait`),
# each timed (wall time, seconds predicting, overhead per video), and each run again from the start, stopped
# half-way (SIGTERM to the local batch; `scancel` of the whole job array) and restarted (the same command again;
# `kinema jobs retry`), counting the finished videos whose CSV was written again (should be 0).
#
# Overhead per video = (wall time × parallel slots − Σ seconds the workers spent predicting) / videos, as the
# batch's own summary line computes it: start-up, model loading, scheduling, hand-offs, idle slots at the end.
# The slots are the local workers, or the node's CPUs for Slurm (one task per CPU).
#
# Needs: a release build (`swift build -c release`), ffmpeg, jq, and a Slurm cluster (scripts/ci/start-slurm.sh);
# without `sinfo` answering, the Slurm half is skipped. The machine's load average is printed with the figures:
# timings on a shared machine are only as quiet as it is.
#
# Usage: scripts/bench/batch-evidence.sh [WORKDIR]     (environment: VIDEOS=200 FRAMES=20 VIDEOS_PER_TASK=25)
set -euo pipefail
cd "$(dirname "$0")/../.."
VIDEOS=${VIDEOS:-200}
FRAMES=${FRAMES:-20}
VIDEOS_PER_TASK=${VIDEOS_PER_TASK:-25}
KINEMA=${KINEMA:-$(swift build -c release --show-bin-path)/kinema}
WORK=${1:-$(mktemp -d /tmp/kinema-batch-evidence.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
REPORT=$WORK/evidence.txt
[ -x "$KINEMA" ] || { echo "batch-evidence: $KINEMA is not built (swift build -c release)" >&2; exit 1; }
for tool in ffmpeg jq; do command -v $tool > /dev/null || { echo "batch-evidence: $tool is not on PATH" >&2; exit 1; }; done

say() { echo "$*" | tee -a "$REPORT"; }
now() { date +%s.%N; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
: > "$REPORT"
say "batch evidence: $VIDEOS videos of $FRAMES frames, $(nproc) cores, $(date -u '+%F %H:%M UTC'), load average $(load)"

# --- a tiny trained model and the videos ------------------------------------------------------------------------
if [ ! -d "$WORK/demo/model" ]; then
  "$KINEMA" demo --directory "$WORK/demo" --epochs 1 --labeled-frames 16 --video-frames 10 --max-minutes 1 \
    > "$WORK/demo.log" 2>&1
fi
MODEL=$WORK/demo/model
if [ ! -f "$WORK/videos/v$((VIDEOS - 1)).mp4" ]; then
  mkdir -p "$WORK/videos"
  for i in $(seq 0 $((VIDEOS - 1))); do
    ffmpeg -loglevel error -y -f lavfi -i "testsrc=size=64x48:rate=10" -frames:v "$FRAMES" -c:v libx264 \
      -pix_fmt yuv420p "$WORK/videos/v$i.mp4"
  done
fi

# Σ of the workers' seconds over every manifest given (`seconds` of each finished video).
predicting_seconds() { jq -s '[.[].videos[] | .seconds // 0] | add' "$@"; }
done_count() { cat "$@" 2> /dev/null | jq -s '[.[].videos[] | select(.state == "done")] | length'; }
# The outputs of the videos the manifests record as done, each with its modification time.
done_stamps() {
  jq -r '.videos[] | select(.state == "done") | .outputs[].path' "$@" 2> /dev/null | sort \
    | while read -r path; do echo "$path $(stat -c %.9Y "$path")"; done
}
# Of the files in stamps file $1, how many were written again since (another time now, or gone).
rewritten() { while read -r path time; do [ "$(stat -c %.9Y "$path" 2> /dev/null)" = "$time" ] || echo "$path"; done < "$1" | wc -l; }

# --- 1. local worker pool ---------------------------------------------------------------------------------------
# 2 workers of 1 thread each (KINEMA_THREADS is the batch's count, shared out among the workers).
local_batch() { KINEMA_THREADS=2 exec "$KINEMA" predict "$MODEL" --videos "$WORK/videos" --output "$1" --workers 2; }
rm -rf "$WORK/local"
start=$(now)
(local_batch "$WORK/local") > /dev/null 2> "$WORK/local.log"
wall=$(echo "$(now) - $start" | bc)
predicting=$(predicting_seconds "$WORK/local/manifest.json")
say "$(printf 'local, 2 workers:  %6.1f s wall, %.3f s predicting and %.3f s overhead per video (load %s)' \
  "$wall" "$(echo "$predicting / $VIDEOS" | bc -l)" "$(echo "($wall * 2 - $predicting) / $VIDEOS" | bc -l)" "$(load)")"
say "  its summary: $(grep ' s wall with ' "$WORK/local.log")"

# Stopped half-way (SIGTERM, as a scheduler or Ctrl-C) and run again.
rm -rf "$WORK/local-restart"
(local_batch "$WORK/local-restart") > /dev/null 2> "$WORK/local-restart-1.log" &
pid=$!  # kinema itself (exec), so that SIGTERM reaches it
while kill -0 $pid 2> /dev/null && [ "$(done_count "$WORK/local-restart/manifest.json")" -lt $((VIDEOS / 2)) ]; do sleep 0.1; done
kill -TERM $pid
status=0
wait $pid || status=$?
before=$(done_count "$WORK/local-restart/manifest.json")
done_stamps "$WORK/local-restart/manifest.json" > "$WORK/local-restart.stamps"
(local_batch "$WORK/local-restart") > /dev/null 2> "$WORK/local-restart-2.log"
say "local restart: stopped with $before of $VIDEOS done (exit $status); the rerun: $(grep -o '[0-9]* videos: .*' "$WORK/local-restart-2.log" | head -1)"
say "  files of the $before finished videos written again: $(rewritten "$WORK/local-restart.stamps") of $(wc -l < "$WORK/local-restart.stamps")"
if ! diff -rq -x manifest.json "$WORK/local" "$WORK/local-restart" > /dev/null; then say "  outputs DIFFER from the uninterrupted run"; else say "  outputs identical to the uninterrupted run"; fi

# --- 2. Slurm job array -----------------------------------------------------------------------------------------
if ! timeout 10 sinfo -h -o %t 2> /dev/null | grep -qE '^(idle|mix|alloc)'; then
  say "slurm: no cluster answers (sinfo); scripts/ci/start-slurm.sh starts one. Slurm half skipped."
  exit 0
fi
cpus=$(sinfo -h -o %c | head -1)
# Tasks take their threads from the CPUs Slurm gives them (1 each), not from this shell.
slurm_submit() {
  KINEMA_THREADS= "$KINEMA" predict "$MODEL" --videos "$WORK/videos" --output "$1" --slurm \
    --videos-per-task "$VIDEOS_PER_TASK" --time 30 2> /dev/null | tail -1
}
slurm_wait() { "$KINEMA" jobs wait "$1" --interval 0.5 > "$2" 2>&1 || true; }
tasks=$(((VIDEOS + VIDEOS_PER_TASK - 1) / VIDEOS_PER_TASK))
rm -rf "$WORK/slurm"
start=$(now)
job=$(slurm_submit "$WORK/slurm")
slurm_wait "$WORK/slurm" "$WORK/slurm-wait.log"
wall=$(echo "$(now) - $start" | bc)
predicting=$(predicting_seconds "$WORK"/slurm/slurm/manifests/*.json)
say "$(printf 'slurm, %d tasks of %d videos on %d CPUs: %6.1f s wall from sbatch to the end, %.3f s predicting and %.3f s overhead per video (load %s)' \
  "$tasks" "$VIDEOS_PER_TASK" "$cpus" "$wall" "$(echo "$predicting / $VIDEOS" | bc -l)" \
  "$(echo "($wall * $cpus - $predicting) / $VIDEOS" | bc -l)" "$(load)")"
say "  job $job: $(grep '^videos: ' "$WORK/slurm-wait.log")"
if ! diff -rq -x manifest.json -x slurm "$WORK/local" "$WORK/slurm" > /dev/null; then say "  CSVs DIFFER from the local run's"; else say "  CSVs identical to the local run's"; fi

# Cancelled half-way (scancel of the whole array), then `kinema jobs retry`.
rm -rf "$WORK/slurm-restart"
start=$(now)
job=$(slurm_submit "$WORK/slurm-restart")
while [ "$(done_count "$WORK"/slurm-restart/slurm/manifests/*.json)" -lt $((VIDEOS / 2)) ]; do
  squeue -h -j "$job" -o %i 2> /dev/null | grep -q . || break
  sleep 0.1
done
scancel "$job"
while squeue -h -j "$job" -o %i 2> /dev/null | grep -q .; do sleep 0.2; done
before=$(done_count "$WORK"/slurm-restart/slurm/manifests/*.json)
done_stamps "$WORK"/slurm-restart/slurm/manifests/*.json > "$WORK/slurm-restart.stamps"
retry=$("$KINEMA" jobs retry "$WORK/slurm-restart")
slurm_wait "$WORK/slurm-restart" "$WORK/slurm-restart-wait.log"
wall=$(echo "$(now) - $start" | bc)
retried=$(echo "$retry" | sed -n 's/.* as Slurm job \([0-9]*\)$/\1/p')
predicted=0 skipped=0
for log in "$WORK"/slurm-restart/slurm/logs/"${retried}"_*.log; do
  line=$(grep -o '[0-9]* videos: [0-9]* predicted now, [0-9]* done earlier' "$log" || true)
  now_count=$(echo "$line" | sed -n 's/.*: \([0-9]*\) predicted now.*/\1/p')
  earlier_count=$(echo "$line" | sed -n 's/.*, \([0-9]*\) done earlier.*/\1/p')
  predicted=$((predicted + ${now_count:-0}))
  skipped=$((skipped + ${earlier_count:-0}))
done
say "slurm restart: job $job cancelled with $before of $VIDEOS done; $retry"
say "  the retried tasks predicted $predicted videos and skipped $skipped done earlier; $(grep '^videos: ' "$WORK/slurm-restart-wait.log"); $(printf '%.1f' "$wall") s in all"
say "  files of the $before finished videos written again: $(rewritten "$WORK/slurm-restart.stamps") of $(wc -l < "$WORK/slurm-restart.stamps")"
if ! diff -rq -x manifest.json -x slurm "$WORK/local" "$WORK/slurm-restart" > /dev/null; then say "  CSVs DIFFER from the local run's"; else say "  CSVs identical to the local run's"; fi
say "load average at the end: $(load); report in $REPORT"
