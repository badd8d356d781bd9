#!/usr/bin/env bash
# Runs a test command and fails when it printed any sanitizer report.
# Criterion does not fail a test on a LeakSanitizer report (its workers exit
# 0 after printing it), so the check is made on the output instead.
set -u
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$@" 2> >(tee "$log" >&2)
rc=$?
wait
if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$log"; then
  echo "sanitizer-check: sanitizer report in the output of: $*" >&2
  exit 1
fi
exit "$rc"
