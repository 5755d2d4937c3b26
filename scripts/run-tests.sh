#!/usr/bin/env bash
# Runs the whole test suite (built already by `make test`), keeps the log in .build/test.log, and on a
# failure repeats the failing tests and their recorded issues at the end, where a CI tail shows them.
set -uo pipefail
cd "$(dirname "$0")/.."
log=.build/test.log
mkdir -p .build
swift test --skip-build "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ]; then
  echo
  echo "=== failing tests (from $log) ==="
  grep -E '✘|recorded an issue|Expectation failed|error:|Fatal error|Crash' "$log" | grep -v '^✔' | head -60
  echo "=== exit $rc ==="
fi
exit "$rc"
