#!/usr/bin/env bash
# Every plugin .so (in the folders and files given) exports exactly one
# dynamic symbol: openclaw_plugin_entry.
set -euo pipefail
pass=0
fail=0
files=()
for arg in "$@"; do
  if [[ -d $arg ]]; then
    for f in "$arg"/*.so; do [[ -e $f ]] && files+=("$f"); done
  else
    files+=("$arg")
  fi
done
if [[ ${#files[@]} -eq 0 ]]; then
  echo "no plugin found in: $*" >&2
  exit 1
fi
for f in "${files[@]}"; do
  syms=$(nm -D --defined-only "$f" | awk '{print $3}' | sort)
  if [[ $syms == "openclaw_plugin_entry" ]]; then
    pass=$((pass + 1))
  else
    echo "FAIL: $f exports: $(echo "$syms" | tr '\n' ' ')" >&2
    fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
