#!/usr/bin/env bash
# bench_quick_test.sh - scripts/bench/llm --quick into a temporary directory
# (never docs/), so the harness cannot rot: it must finish, write llm.md,
# llm.json and the plots, measure the direct path, and either measure each
# proxy path or say in the report why it could not.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=../../integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../integration/lib.sh"

: "${OPENCLAW_TEST_SOURCE_DIR:?OPENCLAW_TEST_SOURCE_DIR must name the source tree}"
OUT=$TEST_TMP/out
run env OPENCLAW_BUILD_DIR="$OPENCLAW_TEST_BINARY_DIR" \
  "$OPENCLAW_TEST_SOURCE_DIR/scripts/bench/llm" --quick --out "$OUT"
if grep -qE 'Sanitizer|runtime error' <<<"$RUN_ERR$RUN_OUT"; then
  printf '%s\n%s\n' "$RUN_OUT" "$RUN_ERR" >&2
fi
assert_rc 0 "bench --quick finishes"
for f in llm.md llm.json; do
  [[ -s "$OUT/$f" ]] || fail "$OUT/$f was not written
stdout: $(_short "$RUN_OUT")
stderr: $(_short "$RUN_ERR")"
done
pass "llm.md and llm.json written into --out"
J=$(cat "$OUT/llm.json")
MD=$(cat "$OUT/llm.md")
for s in "## Against the targets" "## S1" "## S3" "## S4" "## S5" "How to reproduce"; do
  assert_contains "$MD" "$s" "the report has '$s'"
done
assert_json "$J" '[p["status"] for p in j["points"] if p["path"] == "direct"].count("ok") >= 6' \
  true "every direct point measured"
assert_json "$J" 'all(p["load"]["ok"] > 0 for p in j["points"] if p["path"] == "direct")' true \
  "the direct points have answers"
# A proxy path either has figures or the report says why it failed.
for path in nginx gateway; do
  if [[ "$(json_get "$J" "\"$path\" in j[\"failed_paths\"]")" == true ]]; then
    why=$(json_get "$J" "j[\"failed_paths\"][\"$path\"]")
    assert_contains "$MD" "$why" "$path failed and the report says why"
  else
    assert_json "$J" "all(p['status'] == 'ok' for p in j['points'] if p['path'] == '$path')" \
      true "$path: every point measured"
  fi
done
if command -v gnuplot >/dev/null 2>&1; then
  for png in $(json_get "$J" '" ".join(j["plots"])'); do
    [[ -s "$OUT/$png" ]] || fail "plot $png listed but not written"
  done
  assert_json "$J" '"llm-latency.png" in j["plots"]' true "the latency plot is drawn"
fi
finish
