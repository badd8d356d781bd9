# shellcheck shell=bash disable=SC2034 # SINK_PORT, VERDICT are read by the sourcing scripts
# load_lib.sh - what the webhook load tests share (crash_durability.sh,
# shared_store.sh, storage_faults.sh); source after lib.sh.
#
#   start_sink SECRET     webhook-sink on a free port: SINK_PORT; replies are
#                         recorded in SINK_OUT ($TEST_TMP/replies.tsv)
#   replies               replies recorded so far
#   wait_replied MS       waits (at most MS) until every acknowledged id in
#                         ACKED has a reply
#   load_verdict SESSIONS verdict.py's JSON of ACKED and SINK_OUT: VERDICT;
#                         field NAME reads one member

SINK_OUT=$TEST_TMP/replies.tsv
ACKED=$TEST_TMP/acked.tsv

start_sink() {
  "$OPENCLAW_TEST_BINARY_DIR/bin/webhook-sink" --port 0 --secret "$1" --out "$SINK_OUT" \
    >"$TEST_TMP/sink.port" 2>"$TEST_TMP/sink.err" &
  track_pid $!
  # shellcheck disable=SC2317 # called through wait_until
  _sink_listening() { grep -q '^PORT ' "$TEST_TMP/sink.port"; }
  wait_until 5000 _sink_listening || fail "webhook-sink did not print its port"
  SINK_PORT=$(awk '/^PORT /{print $2}' "$TEST_TMP/sink.port")
  : >>"$SINK_OUT"
}

replies() { wc -l <"$SINK_OUT"; }
replies_at_least() { (($(replies) >= $1)); }

# missing: acknowledged ids without any reply at the sink yet.
missing() {
  python3 - "$ACKED" "$SINK_OUT" <<'PY'
import sys
acked = {l.split("\t")[0] for l in open(sys.argv[1]) if l.strip()}
got = {l.split("\t")[1] for l in open(sys.argv[2]) if l.count("\t") >= 4}
print(len(acked - got))
PY
}
all_replied() { [[ "$(missing)" == 0 ]]; }
wait_replied() { wait_until "$1" all_replied || true; }

load_verdict() {
  VERDICT=$(python3 "$OPENCLAW_TEST_SOURCE_DIR/tests/integration/verdict.py" "$ACKED" \
    "$SINK_OUT" "$1")
}
field() { json_get "$VERDICT" "j[\"$1\"]"; }
