#!/usr/bin/env bash
# test_webhook_tools.sh PYTHON SUPPORT_DIR: webhook_send.py against
# webhook_receiver.py (tests/support): the signature both compute, the
# --out file, --fail-first, --status and the exit codes of the sender.
set -euo pipefail
py=${1:?usage: test_webhook_tools.sh PYTHON SUPPORT_DIR}
dir=${2:?usage: test_webhook_tools.sh PYTHON SUPPORT_DIR}
tmp=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# Starts the receiver with the given options; sets pid and url.
start() {
  if [[ -n "$pid" ]]; then kill "$pid"; wait "$pid" 2>/dev/null || true; fi
  rm -f "$tmp/out" "$tmp/port"
  "$py" "$dir/webhook_receiver.py" --port 0 --secret s3 --out "$tmp/out" "$@" >"$tmp/port" &
  pid=$!
  for _ in $(seq 100); do
    [[ -s "$tmp/port" ]] && break
    sleep 0.05
  done
  read -r word port <"$tmp/port" || fail "receiver printed nothing"
  [[ "$word" == PORT && "$port" =~ ^[0-9]+$ ]] || fail "first line: $word $port"
  url="http://127.0.0.1:$port/hook"
}

send() { "$py" "$dir/webhook_send.py" "$@"; }

start --fail-first 1
body='{"to":{"type":"direct","id":"u1"},"text":"hi","idempotencyKey":"k"}'
out=$(send "$url" s3 "$body") && fail "first send should fail" || [[ $? == 1 ]] || fail "exit"
[[ "$(head -1 <<<"$out")" == 500 ]] || fail "fail-first: $out"
out=$(send "$url" s3 "$body") || fail "second send: $out"
[[ "$(head -1 <<<"$out")" == 200 ]] || fail "second: $out"
[[ "$(cat "$tmp/out")" == "$body" ]] || fail "out file: $(cat "$tmp/out")"

# Wrong secret, no signature, not JSON.
out=$(send "$url" other "$body") || true
[[ "$(head -1 <<<"$out")" == 401 ]] || fail "wrong secret: $out"
out=$(send --no-signature "$url" s3 "$body") || true
[[ "$(head -1 <<<"$out")" == 401 ]] || fail "no signature: $out"
out=$(send "$url" s3 'not json') || true
[[ "$(head -1 <<<"$out")" == 400 ]] || fail "not JSON: $out"

# @file bodies, and multi-line bodies stored on one line.
printf '{\n  "a": 1\n}\n' >"$tmp/body.json"
out=$(send "$url" s3 "@$tmp/body.json") || fail "@file: $out"
[[ "$(tail -1 "$tmp/out")" == '{"a":1}' ]] || fail "one line: $(tail -1 "$tmp/out")"
[[ "$(wc -l <"$tmp/out")" == 2 ]] || fail "lines: $(wc -l <"$tmp/out")"

# --status: always that answer; non-2xx bodies are not recorded.
start --status 429
out=$(send "$url" s3 "$body") || true
[[ "$(head -1 <<<"$out")" == 429 ]] || fail "--status: $out"
[[ ! -s "$tmp/out" ]] || fail "recorded a refused body"

# Concurrency with --delay-ms: 5 requests of 1 s each take well under the 5 s
# they would take one after the other (the bound leaves room for a loaded box).
start --delay-ms 1000
t0=$(date +%s%N)
for i in 1 2 3 4 5; do send "$url" s3 "{\"n\":$i}" >/dev/null & done
wait_ok=0
for job in $(jobs -p); do
  [[ "$job" == "$pid" ]] && continue
  wait "$job" || wait_ok=1
done
t1=$(date +%s%N)
((wait_ok == 0)) || fail "a concurrent send failed"
(((t1 - t0) / 1000000 < 4000)) || fail "not concurrent: $(((t1 - t0) / 1000000)) ms"
[[ "$(wc -l <"$tmp/out")" == 5 ]] || fail "concurrent lines: $(wc -l <"$tmp/out")"

# No server: exit 2.
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
set +e
send "$url" s3 "$body" >/dev/null 2>&1
rc=$?
set -e
[[ $rc == 2 ]] || fail "no server: exit $rc"
echo "test_webhook_tools: ok"
