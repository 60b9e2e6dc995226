#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (coverage + AddressSanitizer) and runs each over its seed corpus.
#   scripts/fuzz/run.sh [SECONDS | --runs N] [TARGET ...]
# SECONDS (default 60) is each target's time budget; --runs N runs N inputs per target instead. With no TARGET,
# every target runs. The corpora grow in Fuzz/.corpus/<target> (kept between runs, not committed); a crash, leak or
# hang stops with the reproducing input in Fuzz/.findings/<target>/ and a non-zero exit.
# Each run's numbers (executions, exec/s, seconds) are appended to Fuzz/.findings/summary.tsv.
# KINEMA_FUZZ_SEED=N fixes libFuzzer's random seed, so that a run (CI's) explores the same inputs each time and a
# finding there reproduces; without it each run explores new ones.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

budget=(-max_total_time=60)
if [[ $# -gt 0 && $1 == --runs ]]; then budget=(-runs="$2"); shift 2
elif [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then budget=(-max_total_time="$1"); shift; fi
all=(FuzzPoseCSV FuzzPoseHDF5 FuzzCalibrationTOML FuzzNpy FuzzPickle FuzzConfigYAML FuzzSafeTensors FuzzTorchFile
    FuzzParquet)
targets=("${@:-${all[@]}}")

# SwiftPM links each executable with its own `main`, so libFuzzer comes as its no-main runtime and each target
# starts it through LLVMFuzzerRunDriver (Fuzz/Sources/FuzzSupport).
swiftc=$(command -v swiftc)
runtime=$(ls "$(dirname "$(readlink -f "$swiftc")")"/../lib/clang/*/lib/linux/libclang_rt.fuzzer_no_main-"$(uname -m)".a \
    2>/dev/null | head -n1 || true)
[[ -n $runtime ]] || { echo "fuzz: libFuzzer's runtime (libclang_rt.fuzzer_no_main) is not in this Swift toolchain" >&2; exit 1; }
flags=(-c release --package-path Fuzz
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp
    -Xlinker "$runtime" -Xlinker -lstdc++)
for target in "${targets[@]}"; do swift build "${flags[@]}" --product "$target"; done
bin=$(swift build "${flags[@]}" --show-bin-path)
# The Torch readers load libtorch through Kinema's shim, a product of the package itself (no sanitizers: it is
# libtorch's side, like libtorch).
swift build -c release --product KinemaTorchShim
export KINEMA_TORCH_SHIM=${KINEMA_TORCH_SHIM:-$(swift build -c release --show-bin-path)/libKinemaTorchShim.so}

# Seeds: the repository's own test files of each format, plus what each target writes with Kinema's writers.
seed_files() {  # target -> find expression over Tests/
    case $1 in
        FuzzPoseCSV) find Tests -name '*.csv' -size -16k ;;
        FuzzPoseHDF5) find Tests -name '*.h5' ;;
        FuzzCalibrationTOML) find Tests -name '*.toml' ;;
        FuzzNpy) find Tests -name '*.npy' -size -16k ;;
        FuzzConfigYAML) find Tests -name '*.yaml' ;;
        *) ;;
    esac
}
# The torch.save fixture lives base64-encoded in its test; its pickle is the pickle target's seed.
torch_fixture() {
    awk '/static let fixture = """/{on=1; next} on && /"""/{exit} on' Tests/TorchNNTests/TorchFileTests.swift \
        | tr -d ' \n' | base64 -d
}

# One target with the sanitizers' settings (LeakSanitizer's suppressions say why each one is not Kinema's).
run_target() {
    local target=$1
    shift
    TMPDIR=$scratch SWIFT_BACKTRACE=enable=no KINEMA_HDF5_CRASH_GUARD=off \
        ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=$root/scripts/fuzz/lsan.supp \
        "$bin/$target" "$@"
}

# Whether an input crashes the HDF5 target inside libhdf5: the innermost frame outside libc and the sanitizer
# runtime is the library's.
crashes_inside_libhdf5() {
    local report
    report=$(run_target FuzzPoseHDF5 "$1" -malloc_limit_mb=100000000 2>&1 || true)
    # sed reads to the end: a reader that stops early (head) would kill the grep before it with SIGPIPE, which
    # pipefail turns into a failed test.
    local innermost
    innermost=$(grep -E '^ +#[0-9]+ ' <<<"$report" | grep -vE 'sysdeps|compiler-rt|sanitizer_common|libc\.so' | sed -n 1p)
    [[ $innermost == *libhdf5* ]]
}

mkdir -p Fuzz/.findings
scratch=$(mktemp -d "$([[ -d /dev/shm ]] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/kinema-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
status=0
for target in "${targets[@]}"; do
    corpus=Fuzz/.corpus/$target findings=Fuzz/.findings/$target
    mkdir -p "$corpus" "$findings"
    seed_files "$target" | while read -r file; do cp "$file" "$corpus/seed-$(echo "$file" | tr / _)"; done
    KINEMA_FUZZ_SEEDS=$corpus "$bin/$target"
    case $target in
        FuzzTorchFile) torch_fixture >"$corpus/seed-fixture.pt" ;;
        FuzzPickle) torch_fixture >"$findings/fixture.pt"
            python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("archive/data.pkl"))' \
                "$findings/fixture.pt" >"$corpus/seed-data.pkl" ;;
    esac
    echo "fuzz: $target (${budget[*]})"
    log=$findings/last.log
    extra=(${KINEMA_FUZZ_SEED:+-seed=$KINEMA_FUZZ_SEED})
    if [[ $target == FuzzPoseHDF5 ]]; then
        # libhdf5 (C, not instrumented) may ask malloc for petabytes on a corrupt file and reports the failure as
        # an error; such requests must fail as they do outside the fuzzer instead of counting as findings. It also
        # crashes on some damaged files (a bug of the library, answered in Kinema by the reader's crash guard): the
        # run goes on past crashes (fork mode) and each one is triaged below.
        extra+=(-malloc_limit_mb=100000000 -fork=1 -ignore_crashes=1)
    fi
    before=$(ls "$findings" | grep '^crash-' || true)
    # Swift's own crash reporter would hold the crash; libFuzzer must see it to save the input. Inputs of up to
    # 8 KiB reach every structure of these formats and keep the rate high; the input files live in memory.
    if ! run_target "$target" "$corpus" "${budget[@]}" "${extra[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 -artifact_prefix="$findings/" >"$log" 2>&1; then
        echo "fuzz: $target FOUND A PROBLEM; the input is in $findings/ (log: $log):" >&2
        grep -E "ERROR|SUMMARY|Fatal error|deadly|leak|timeout" "$log" | head -n 5 >&2 || true
        status=1
        continue
    fi
    for crash in $(comm -13 <(echo "$before") <(ls "$findings" | grep '^crash-' || true)); do
        if crashes_inside_libhdf5 "$findings/$crash"; then
            echo "fuzz: $target: a crash inside libhdf5 itself, not Kinema's ($findings/$crash); the crash guard covers it"
        else
            echo "fuzz: $target FOUND A PROBLEM; the input is $findings/$crash" >&2
            status=1
        fi
    done
    if grep -q '^stat::number_of_executed_units' "$log"; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    else  # fork mode: its last progress line holds the totals
        runs=$(sed -n 's/^#\([0-9]*\): .*/\1/p' "$log" | tail -n1)
        rate=$(sed -n 's/^#.* exec\/s: \([0-9]*\) .*/\1/p' "$log" | tail -n1)
    fi
    seconds=$(awk -v r="$runs" -v s="$rate" 'BEGIN { if (s > 0) printf "%.0f", r / s; else print "?" }')
    printf '%s\t%s\t%s\t%s\n' "$target" "$runs" "$rate" "$seconds" | tee -a Fuzz/.findings/summary.tsv
done
exit $status
