#!/usr/bin/env bash
# load.sh - 2,000 concurrent SSE streams on one oc-mock-upstream worker: all
# open at once (the mock's own gauge and the client agree), every stream
# complete with all its events, and the mock's RSS per open stream reported.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=mock_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mock_lib.sh"

N=2000
CHUNKS=40 # x 250 ms: each stream stays open ~10 s, time enough to open them all
SBODY='{"model":"load","stream":true,"stream_options":{"include_usage":true},'
SBODY+='"messages":[{"role":"user","content":"load"}]}'
[[ $(ulimit -n) == unlimited || $(ulimit -n) -gt $((N + 100)) ]] ||
  fail "ulimit -n is $(ulimit -n): the client needs more than $N descriptors"

start_mock --quiet
client streams "$MOCK_PORT" "$N" /v1/chat/completions "$SBODY" --pid "$MOCK_PID" --timeout 90 \
  -H "x-mock-chunks: $CHUNKS" -H 'x-mock-chunk-interval-ms: 250'
echo "streams: $CLIENT"
assert_json "$CLIENT" '[j["ok"], j["failed"], j["errors"]]' "[$N, 0, []]" \
  "$N concurrent streams all complete"
assert_json "$CLIENT" '[j["events_min"], j["events_max"]]' "[$((CHUNKS + 4)), $((CHUNKS + 4))]" \
  "every stream has role + $CHUNKS pieces + finish + usage + [DONE]"
assert_json "$CLIENT" 'j["peak_open_seen"]' "$N" \
  "all $N streams were open at once (seen in /mock/stats)"
assert_json "$CLIENT" '[j["streams_max"] >= j["peak_open_seen"], j["streams_open_after"]]' \
  '[true, 0]' "streams_max records the peak; none open after"
assert_json "$(stat 'j')" '[j["streams_total"], j["client_aborts"], j["chunks_out"]]' \
  "[$N, 0, $((N * (CHUNKS + 4)))]" "stats: $N streams, no aborts, every event counted"
per=$(json_get "$CLIENT" 'j["bytes_per_stream"]')
fmt='"%d KB idle, %d KB with %d streams open (%d bytes per stream, in %s s)"'
fmt+=' % (j["rss_kb_before"], j["rss_kb_peak"], j["ok"], j["bytes_per_stream"], j["seconds"])'
rss=$(json_get "$CLIENT" "$fmt")
((per < 65536)) || fail "RSS per open stream is $per bytes ($rss)"
pass "mock RSS: $rss"
stop_mock "exits 0 after $N streams"
finish
