#!/usr/bin/env bash
# The whole test suite under AddressSanitizer (+ LeakSanitizer) and ThreadSanitizer, each in its own
# scratch path so the normal .build is untouched. Run before each release; results in docs/robustness.md.
#   scripts/sanitizers.sh            # both
#   scripts/sanitizers.sh address    # one
# Extra arguments after the sanitizer names go to `swift test` (e.g. --filter Faults).
set -euo pipefail
cd "$(dirname "$0")/.."
kinds=()
while [[ $# -gt 0 && ( $1 == address || $1 == thread ) ]]; do kinds+=("$1"); shift; done
[[ ${#kinds[@]} -gt 0 ]] || kinds=(address thread)
status=0
for kind in "${kinds[@]}"; do
    [[ $kind == address ]] && scratch=.build-asan || scratch=.build-tsan
    echo "== $kind sanitizer: building into $scratch" >&2
    swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
    log=$scratch/sanitizer-test.log
    echo "== $kind sanitizer: swift test (log: $log)" >&2
    # Memory bounds in the tests are relaxed under a sanitizer (BROKERFRONT_SANITIZER); child processes
    # (the brokerfront executable the fault tests run) are built with the same sanitizer and inherit
    # the options: a report makes them exit non-zero, which the tests check.
    # ThreadSanitizer slows the in-process fronts 5-15x: run the tests one at a time so the timing-bound
    # integration tests keep their margins (in parallel, 11 of them time out; no race is reported either way).
    serial=()
    [[ $kind == thread ]] && serial=(--no-parallel)
    set +e
    BROKERFRONT_SANITIZER=$kind \
        ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
        LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp:print_suppressions=0} \
        TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=0:second_deadlock_stack=1} \
        swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" "${serial[@]}" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    reports=$(grep -c "ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|WARNING: ThreadSanitizer" "$log" || true)
    echo "== $kind sanitizer: swift test exit $rc, sanitizer reports in the test process: $reports" >&2
    [[ $rc -eq 0 && $reports -eq 0 ]] || status=1
done
exit $status
