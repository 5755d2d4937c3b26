#!/usr/bin/env bash
# Runs the whole test suite (built already by `make test`), keeps the log in .build/test.log, and on a
# failure repeats the failing tests and their recorded issues at the end, where a CI tail shows them.
#
# The suite runs its tests in parallel on a 2-core machine: a test that waits on real brokers, health
# checks or a drain can then be starved for seconds by the others. When at most 8 test files recorded
# issues (and nothing crashed), those suites are run once more on their own, one test at a time; the
# run passes only if they all pass there, and the log says which failed in the crowd. A test that
# fails for a real reason fails alone too. NO_RERUN=1 turns this off.
#
# The suites in TIMED (paced moves of thousands of sessions, judged by their timing) run after the
# rest, on their own and one test at a time; the run passes only if both parts pass.
set -uo pipefail
cd "$(dirname "$0")/.."
log=.build/test.log
mkdir -p .build
TIMED=EvacuationTests
timed=0
if [ "$#" -eq 0 ]; then
  swift test --skip-build --skip "$TIMED" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  echo
  echo "=== timed suites, alone: $TIMED ==="
  swift test --skip-build --no-parallel --filter "$TIMED" 2>&1 | tee "$log.timed"
  timed=${PIPESTATUS[0]}
  if [ "$timed" -ne 0 ]; then
    grep -E '✘|recorded an issue|Expectation failed' "$log.timed" | head -30
    echo "=== timed suites failed: exit $timed ==="
    [ "$rc" -eq 0 ] && exit "$timed"
  fi
else
  swift test --skip-build "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
fi
if [ "$rc" -ne 0 ]; then
  echo
  echo "=== failing tests (from $log) ==="
  grep -E '✘|recorded an issue|Expectation failed|error:|Fatal error|Crash' "$log" | grep -v '^✔' | head -60
  echo "=== exit $rc ==="
  if [ -z "${NO_RERUN:-}" ] && [ "$#" -eq 0 ] && ! grep -qE 'Fatal error|Exited with unexpected signal|signal code|error: Exited' "$log"; then
    suites=$(grep -oE 'recorded an issue.* at [A-Za-z0-9_]+Tests\.swift:[0-9]+' "$log" \
      | sed -E 's/.* at ([A-Za-z0-9_]+Tests)\.swift:.*/\1/' | sort -u)
    count=$(printf '%s\n' "$suites" | grep -c . || true)
    if [ "$count" -ge 1 ] && [ "$count" -le 8 ]; then
      filter=$(printf '%s\n' "$suites" | paste -sd'|')
      echo
      echo "=== running the failing suites again alone, one test at a time: $filter ==="
      swift test --skip-build --no-parallel --filter "$filter" 2>&1 | tee "$log.rerun"
      rerun=${PIPESTATUS[0]}
      ran=$(grep -oE 'Test run with [0-9]+ test' "$log.rerun" | grep -oE '[0-9]+' | tail -1)
      if [ "$rerun" -eq 0 ] && [ "${ran:-0}" -gt 0 ]; then
        echo "=== $filter passed alone ($ran tests): their failures above came from the whole suite's load ==="
        exit "$timed"
      fi
      echo "=== $filter failed alone too ==="
    fi
  fi
fi
exit "$rc"
