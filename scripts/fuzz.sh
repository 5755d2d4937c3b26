#!/usr/bin/env bash
# Builds the libFuzzer targets (Tests/Fuzz, a package of its own) with -sanitize=fuzzer,address and runs
# each for a fixed time or number of executions. Exit 0 when no target crashed, hung, ran out of memory
# or drew a sanitizer report; else 1, with the offending inputs left in .build-fuzz/artifacts/.
#
#   scripts/fuzz.sh [--seconds N | --runs N] [--no-build] [TARGET...]
#
#   TARGET     mqtt (FuzzMQTTCodec), proxy (FuzzProxyHeader), config (FuzzConfig); default: all three
#   --seconds  time per target (default 20: CI runs all three for 60 s in all)
#   --runs     executions per target instead of a time (e.g. --runs 10000000)
#   --no-build use the binaries already in .build-fuzz
#
# Every run starts from the committed seeds (Tests/Fuzz/corpus/<dir>) plus the regression inputs
# (Tests/Fuzz/regressions/<dir>), and keeps what it learns in .build-fuzz/corpus/<dir> for the next run.
# Linux only (libFuzzer ships with the Swift toolchain there). See docs/robustness.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

seconds=20
runs=""
build=1
targets=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        mqtt|proxy|config) targets+=("$1"); shift ;;
        *) echo "fuzz.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ ${#targets[@]} -eq 0 ]] && targets=(mqtt proxy config)

scratch=.build-fuzz
if [[ $build == 1 ]]; then
    echo "== building fuzz targets (release, -sanitize=fuzzer,address) into $scratch"
    # -parse-as-library: libFuzzer owns main (each target supplies SwiftPM's <Module>_main, see
    # Tests/Fuzz/Sources/FuzzMQTTCodec); lld: gold crashes linking the renamed entry point; -Xcc:
    # coverage and ASan in C code too (libyaml under Yams).
    swift build --package-path Tests/Fuzz -c release --scratch-path "$scratch" \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld \
        -Xcc -fsanitize=fuzzer-no-link,address
fi
bin="$scratch/release"

# target -> binary, corpus directory, max input length
declare -A binary=([mqtt]=FuzzMQTTCodec [proxy]=FuzzProxyHeader [config]=FuzzConfig)
declare -A maxlen=([mqtt]=4096 [proxy]=4200 [config]=8192)
declare -A dict=([mqtt]=mqtt [proxy]=proxy [config]=yaml)

# Swift's crash backtracer would symbolicate for minutes on every crash libFuzzer provokes on purpose.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"

failed=0
mkdir -p "$scratch/artifacts"
for target in "${targets[@]}"; do
    exe="$bin/${binary[$target]}"
    work="$scratch/corpus/$target"
    mkdir -p "$work"
    cp -n Tests/Fuzz/corpus/"$target"/* "$work"/ 2>/dev/null || true
    if compgen -G "Tests/Fuzz/regressions/$target/*" > /dev/null; then
        echo "== $target: replaying Tests/Fuzz/regressions/$target"
        "$exe" -runs=0 Tests/Fuzz/regressions/"$target"/* || failed=1
        cp -n Tests/Fuzz/regressions/"$target"/* "$work"/
    fi
    limit=(-max_total_time="$seconds")
    [[ -n $runs ]] && limit=(-runs="$runs")
    log="$scratch/$target.log"
    echo "== $target: ${binary[$target]} ${limit[*]} (log $log)"
    set +e
    "$exe" "$work" "${limit[@]}" -max_len="${maxlen[$target]}" -timeout=10 -rss_limit_mb=2048 \
        -dict=Tests/Fuzz/dict/"${dict[$target]}".dict -artifact_prefix="$scratch/artifacts/$target-" \
        -print_final_stats=1 > "$log" 2>&1
    status=$?
    set -e
    executed=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    peak=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    corpus=$(ls "$work" | wc -l)
    if [[ $status -ne 0 ]]; then
        failed=1
        echo "!! $target FAILED (exit $status) after $executed executions; input saved as:"
        grep -E 'Test unit written to|ERROR:|SUMMARY:' "$log" | tail -5
    else
        echo "== $target: OK, $executed executions, corpus $corpus inputs, peak RSS ${peak} MB"
    fi
done
exit $failed
