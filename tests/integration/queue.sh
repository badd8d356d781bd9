#!/usr/bin/env bash
# queue.sh - per-session lanes and the queue modes, measured (SPEC §7
# "Queue", reference §4 "Command queue and lanes", §12 targets 33-34).
#
# The mock provider answers after latencyMs (LAT); the receiver stamps each
# reply with its arrival time ("_ts", ms since the epoch), and the burst
# sender notes when it started (BURST_T0). From these:
#   - one session, followup: replies in order, spaced about LAT apart, the
#     last one >= 3 x LAT after the burst (serial);
#   - three sessions: all three replies < 2 x LAT after the burst (parallel);
#   - maxConcurrent 1: three sessions are serial again (>= 3 x LAT);
#   - collect: messages arriving while a turn runs become one turn;
#   - interrupt: each new message aborts the running turn; one reply covers
#     the whole burst.
# Bounds are generous (parallel < 2 x LAT, serial >= 3 x LAT): they hold on
# a loaded machine, and a broken lane (parallel where it must be serial, or
# the reverse) misses them by a whole latency.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=msg_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/msg_lib.sh"

LAT=400
# Slack for timers and deliveries: a gap between two serial replies is
# compared with LAT - JITTER, a serial total with 3 x LAT - SLACK (a timer
# armed from a loop's cached clock may fire a few ms early in wall time).
JITTER=50
SLACK=30
OPEN_DMS='    dmPolicy: open
    allowFrom: ["*"]'
TURNS_OK='openclaw_agent_turns_total{agent="main",outcome="ok"}'

# num EXPR: recv_get EXPR, which must print an integer.
num() {
  local v
  v=$(recv_get "$1") || fail "cannot evaluate $1 on the replies: $v"
  [[ "$v" =~ ^-?[0-9]+$ ]] || fail "$1 is not an integer: $v"
  echo "$v"
}

# assert_ge A B DESC / assert_lt A B DESC (integers)
assert_ge() {
  (($1 >= $2)) || fail "$3
  expected: >= $2
  actual:   $1"
  pass "$3 ($1 >= $2)"
}
assert_lt() {
  (($1 < $2)) || fail "$3
  expected: < $2
  actual:   $1"
  pass "$3 ($1 < $2)"
}

# queue_idle: nothing queued or running, nothing left in the outbox.
queue_idle() {
  http GET "$BASE/health/detailed"
  [[ "$HTTP_CODE" == 200 ]] &&
    [[ "$(json_get "$HTTP_BODY" '[j["queue"][k] for k in ("running", "queued", "outboxInFlight")]')" == "[0, 0, 0]" ]]
}

wait_idle() {
  wait_until 10000 queue_idle || fail "$1: the queue did not become idle: $HTTP_BODY"
}

# transcript KEY: the user/assistant turns stored for session KEY, as a JSON
# list of [role, content] (read from the sqlite file, read-only).
transcript() {
  python3 -c 'import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
rows = db.execute("SELECT role, content FROM turns WHERE session_key = ? ORDER BY seq", (sys.argv[2],))
print(json.dumps([list(r) for r in rows]))' "$OPENCLAW_STATE_DIR/data/sessions.db" "$1"
}

# =====================================================================
# followup: one session serial, different sessions parallel
# =====================================================================
start_receiver followup
new_gateway followup
write_config "    latencyMs: $LAT" "$OPEN_DMS" "messages:
  queue:
    mode: followup
session:
  dmScope: per-peer"
gw_up

# ---- three messages of ONE session ----
post_many "$(body_json f1 u1 direct u1 m1)" "$(body_json f2 u1 direct u1 m2)" "$(body_json f3 u1 direct u1 m3)"
T0=$BURST_T0
wait_lines 3 "followup, one session: 3 messages get 3 replies" 10000
assert_recv '[o["inReplyTo"] for o in L]' '["f1", "f2", "f3"]' "followup, one session: replies arrive in order (m1, m2, m3 by inReplyTo)"
assert_recv '[o["text"] for o in L]' '["mock: m1", "mock: m2", "mock: m3"]' "followup, one session: one turn per message"
gap1=$(num 'round(L[1]["_ts"] - L[0]["_ts"])')
gap2=$(num 'round(L[2]["_ts"] - L[1]["_ts"])')
assert_ge "$gap1" $((LAT - JITTER)) "followup, one session: reply 2 comes about one latency (${LAT} ms) after reply 1"
assert_ge "$gap2" $((LAT - JITTER)) "followup, one session: reply 3 comes about one latency after reply 2"
total=$(num "round(L[2]['_ts'] - $T0)")
assert_ge "$total" $((3 * LAT - SLACK)) "followup, one session: serial, the last reply >= 3 x latency after the burst"

# ---- three messages of three DIFFERENT sessions ----
post_many "$(body_json p1 ua direct ua pa)" "$(body_json p2 ub direct ub pb)" "$(body_json p3 uc direct uc pc)"
T0=$BURST_T0
wait_lines 6 "followup, three sessions: 3 messages get 3 replies" 10000
assert_recv 'sorted(o["inReplyTo"] for o in L[3:])' '["p1", "p2", "p3"]' "followup, three sessions: each message answered"
total=$(num "round(max(o['_ts'] for o in L[3:]) - $T0)")
assert_lt "$total" $((2 * LAT)) "followup, three sessions: parallel, all replies < 2 x latency after the burst"
spread=$(num 'round(max(o["_ts"] for o in L[3:]) - min(o["_ts"] for o in L[3:]))')
assert_lt "$spread" "$LAT" "followup, three sessions: the replies are less than one latency apart"
gw_down

# =====================================================================
# agents.defaults.maxConcurrent 1 serializes different sessions
# =====================================================================
start_receiver maxconc
new_gateway maxconc
write_config "    latencyMs: $LAT" "$OPEN_DMS" "messages:
  queue:
    mode: followup
session:
  dmScope: per-peer
agents:
  defaults:
    maxConcurrent: 1"
gw_up
http GET "$BASE/health/detailed"
assert_json "$HTTP_BODY" 'j["queue"]["maxConcurrent"]' 1 "maxConcurrent 1: /health/detailed queue.maxConcurrent is 1"
post_many "$(body_json q1 ua direct ua qa)" "$(body_json q2 ub direct ub qb)" "$(body_json q3 uc direct uc qc)"
T0=$BURST_T0
wait_lines 3 "maxConcurrent 1: 3 sessions get 3 replies" 10000
assert_recv '[o["inReplyTo"] for o in L]' '["q1", "q2", "q3"]' "maxConcurrent 1: sessions take the one slot in arrival order"
gap1=$(num 'round(L[1]["_ts"] - L[0]["_ts"])')
gap2=$(num 'round(L[2]["_ts"] - L[1]["_ts"])')
assert_ge "$gap1" $((LAT - JITTER)) "maxConcurrent 1: reply 2 comes about one latency after reply 1"
assert_ge "$gap2" $((LAT - JITTER)) "maxConcurrent 1: reply 3 comes about one latency after reply 2"
total=$(num "round(L[2]['_ts'] - $T0)")
assert_ge "$total" $((3 * LAT - SLACK)) "maxConcurrent 1: different sessions run serially (>= 3 x latency)"
gw_down

# =====================================================================
# collect: messages arriving during a turn are merged into one turn
# =====================================================================
start_receiver collect
new_gateway collect
write_config "    latencyMs: $LAT" "$OPEN_DMS" "messages:
  queue:
    mode: collect
    debounceMs: 150"
gw_up
post_many "$(body_json c1 u1 direct u1 line0)" "$(body_json c2 u1 direct u1 line1)" "$(body_json c3 u1 direct u1 line2)"
T0=$BURST_T0
wait_lines 2 "collect: 3 messages of one session get 2 replies" 10000
wait_idle "collect"
assert_eq 2 "$(recv_count)" "collect: fewer replies than messages (2 for 3)"
assert_recv '[o["text"] for o in L]' '["mock: line0", "mock: line1\nline2"]' \
  'collect: the first runs alone; the two that arrived during it are one turn ("mock: line1\nline2")'
assert_recv '[o["inReplyTo"] for o in L]' '["c1", "c3"]' "collect: the merged reply answers the latest message"
assert_eq 2 "$(metric "$TURNS_OK")" "collect: 2 agent turns for 3 messages"
assert_eq '[["user", "line0"], ["assistant", "mock: line0"], ["user", "line1"], ["user", "line2"], ["assistant", "mock: line1\nline2"]]' \
  "$(transcript agent:main:main)" "collect: the transcript holds each message once, then the merged answer"
# A reset trigger is never merged behind other messages: it starts its own
# batch (and so resets), the messages before it are one turn of the old
# session.
post_many "$(body_json c4 u1 direct u1 before)" "$(body_json c5 u1 direct u1 one)" \
  "$(body_json c6 u1 direct u1 /new)" "$(body_json c7 u1 direct u1 two)"
wait_lines 5 "collect with /new in the burst: 3 more replies" 10000
wait_idle "collect with /new"
assert_recv '[[o["inReplyTo"], o["text"]] for o in L[2:]]' '[["c4", "mock: before"], ["c5", "mock: one"], ["c7", "mock: two"]]' \
  "collect: a /new queued behind a message is not merged into it; /new two runs as a reset"
assert_eq '[["user", "two"], ["assistant", "mock: two"]]' "$(transcript agent:main:main)" \
  "collect: the /new batch reset the session"
gw_down

# =====================================================================
# interrupt: the newest message aborts the running turn
# =====================================================================
start_receiver interrupt
new_gateway interrupt
write_config "    latencyMs: $LAT" "$OPEN_DMS
    groupPolicy: open" "messages:
  queue:
    mode: interrupt"
gw_up
post_many "$(body_json i1 u1 direct u1 first)" "$(body_json i2 u1 direct u1 second)" "$(body_json i3 u1 direct u1 third)"
wait_lines 1 "interrupt: a burst of 3 messages gets a reply" 10000
wait_idle "interrupt"
assert_eq 1 "$(recv_count)" "interrupt: exactly 1 reply for a burst of 3"
assert_recv 'L[0]["text"]' "$(printf 'mock: first\nsecond\nthird')" "interrupt: the final reply covers all 3 messages"
assert_recv 'L[0]["inReplyTo"]' i3 "interrupt: the reply answers the newest message"
assert_eq 1 "$(metric "$TURNS_OK")" "interrupt: one completed agent turn"
assert_eq '[["user", "first"], ["user", "second"], ["user", "third"], ["assistant", "mock: first\nsecond\nthird"]]' \
  "$(transcript agent:main:main)" "interrupt: the transcript holds each message once, then the answer"
# The lane goes on normally afterwards.
dm i4 u1 "fourth"
wait_lines 2 "interrupt: a later message is answered on its own"
assert_recv 'L[1]["text"]' "mock: fourth" "interrupt: the later reply is its own turn"
# Only a message that may run interrupts: group chatter that is kept as
# context (no mention) arrives 300 ms into the turn and must not restart it
# (a restart would put the answer >= 300 ms + LAT after the question).
post_many --gap-ms 300 "$(body_json g1 s1 group g-int question '"mentioned": true')" \
  "$(body_json g2 s2 group g-int chatter)"
T0=$BURST_T0
wait_lines 3 "interrupt: the mentioned group message is answered" 10000
wait_idle "interrupt with chatter"
assert_eq 3 "$(recv_count)" "interrupt: one reply for the group (the chatter is context)"
assert_recv '[L[2]["inReplyTo"], L[2]["text"]]' '["g1", "mock: question"]' "interrupt: the answer is the question's"
took=$(num "round(L[2]['_ts'] - $T0)")
assert_lt "$took" $((LAT + 250)) "interrupt: chatter kept as context does not restart the running turn"
gw_down

# =====================================================================
# cap and drop: a session's backlog is bounded
# =====================================================================
# cap 2: while k1 runs, k2..k5 queue up; each arrival beyond 2 queued drops
# one message: the oldest queued (drop old) or the newest (drop new).
for drop in old new; do
  start_receiver "cap-$drop"
  new_gateway "cap-$drop"
  write_config "    latencyMs: $LAT" "$OPEN_DMS" "messages:
  queue:
    mode: followup
    cap: 2
    drop: $drop"
  gw_up
  post_many "$(body_json k1 u1 direct u1 k1)" "$(body_json k2 u1 direct u1 k2)" \
    "$(body_json k3 u1 direct u1 k3)" "$(body_json k4 u1 direct u1 k4)" "$(body_json k5 u1 direct u1 k5)"
  wait_lines 3 "cap 2, drop $drop: 5 messages in a burst get 3 replies" 10000
  wait_idle "cap 2, drop $drop"
  assert_eq 3 "$(recv_count)" "cap 2, drop $drop: exactly 3 replies"
  if [[ "$drop" == old ]]; then want='["k1", "k4", "k5"]'; else want='["k1", "k2", "k3"]'; fi
  assert_recv '[o["inReplyTo"] for o in L]' "$want" "cap 2, drop $drop: the running turn and the 2 kept messages are answered"
  assert_eq 2 "$(metric 'openclaw_queue_dropped_total{reason="cap"}')" \
    "cap 2, drop $drop: openclaw_queue_dropped_total{reason=cap} is 2"
  gw_down
done

finish
