#!/usr/bin/env bash
# Start-up of commands that need no tensors, and a smoothing job, for two `kinema` builds side by side (paired:
# each round runs every command once with each build, in alternating order), with medians.
#   scripts/bench/startup.sh BASELINE_BIN_DIR CANDIDATE_BIN_DIR [ROUNDS]
# Each BIN_DIR holds `kinema` and `kinema-smooth` (e.g. another checkout's .build/release). Prints one
#   bench startup-<command> <median ms> ms ratio=<candidate/baseline> vs baseline
# line per command, plus `kinema smooth` against `kinema-smooth` within the candidate, and the machine's load
# average before and after (medians of interleaved rounds tolerate a busy machine, not a changing one).
set -euo pipefail
cd "$(dirname "$0")/../.."
base=$1 cand=$2 rounds=${3:-21}
echo "bench startup: $rounds rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
input=Tests/SmoothingTests/Fixtures/paw/input
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
job=(singlecam --input-files "$input/seed0_left.csv" "$input/seed1_left.csv" "$input/seed2_left.csv" --save-dir "$out" --s 5)
declare -A commands=(
  [help]="kinema --help"
  [filter-help]="kinema filter --help"
  [smooth-help]="kinema smooth --help"
  [smooth-job]="kinema smooth ${job[*]}"
  [kinema-smooth-help]="kinema-smooth --help"
  [kinema-smooth-job]="kinema-smooth ${job[*]}"
)
declare -A times
run_ms() {  # bin_dir command... -> milliseconds
  local dir=$1; shift
  local exe=$1; shift
  local t0=$EPOCHREALTIME
  "$dir/$exe" "$@" > /dev/null 2>&1
  local t1=$EPOCHREALTIME
  echo "$(( (${t1/./} - ${t0/./}) / 1000 ))"
}
for ((r = 0; r < rounds; r++)); do
  for name in "${!commands[@]}"; do
    read -r -a words <<< "${commands[$name]}"
    order=(base cand); ((r % 2)) && order=(cand base)
    for which in "${order[@]}"; do
      dir=$base; [ "$which" = cand ] && dir=$cand
      times[$which-$name]+="$(run_ms "$dir" "${words[@]}") "
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
for name in help filter-help smooth-help smooth-job kinema-smooth-help kinema-smooth-job; do
  b=$(median <<< "${times[base-$name]}") c=$(median <<< "${times[cand-$name]}")
  echo "bench startup-$name $c ms ratio=$(awk -v c="$c" -v b="$b" 'BEGIN {printf "%.3f", c / b}') vs baseline ($b ms)"
done
echo "bench startup: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for pair in "smooth-help kinema-smooth-help" "smooth-job kinema-smooth-job"; do
  read -r k s <<< "$pair"
  a=$(median <<< "${times[cand-$k]}") b=$(median <<< "${times[cand-$s]}")
  echo "bench through-kinema-$k $a ms ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.3f", a / b}') vs $s ($b ms, same build)"
done
