#!/usr/bin/env bash
# `kinema predict` start-up to its first predicted batch (KINEMA_REPORT_FIRST_FRAME=1: seconds since the process
# started, re-execution included), for two builds side by side, paired and alternating; medians.
#   scripts/bench/predict-startup.sh BASELINE_BIN_DIR CANDIDATE_BIN_DIR MODEL_DIR VIDEO [ROUNDS]
set -euo pipefail
base=$1 cand=$2 model=$3 video=$4 rounds=${5:-9}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
declare -A times
for ((r = 0; r < rounds; r++)); do
  order=(base cand); ((r % 2)) && order=(cand base)
  for which in "${order[@]}"; do
    dir=$base; [ "$which" = cand ] && dir=$cand
    line=$(KINEMA_REPORT_FIRST_FRAME=1 "$dir/kinema" predict "$model" "$video" --output "$out/$which-$r" 2>&1 >/dev/null \
      | grep '^kinema-first-frame' | awk '{print $2}')
    times[$which]+="$line "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
b=$(median <<< "${times[base]}") c=$(median <<< "${times[cand]}")
echo "bench predict-startup-first-batch $c s ratio=$(awk -v c="$c" -v b="$b" 'BEGIN {printf "%.3f", c / b}') vs baseline ($b s)"
