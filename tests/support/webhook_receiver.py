#!/usr/bin/env python3
"""A fake webhook receiver for channel-webhook tests (python3 stdlib only).

Listens on 127.0.0.1, checks X-OpenClaw-Signature (sha256=<hex HMAC-SHA256 of
the raw body>) with --secret, and appends every accepted JSON body as one line
to --out (flushed and fsync'd per line, so a test can tail the file). Each
line is the body exactly as received, unless it spans lines (then it is
re-serialised compactly).

    webhook_receiver.py --port 0 --secret s3cret --out /tmp/got.jsonl
    webhook_receiver.py 0 --secret s3cret --out /tmp/got.jsonl   (the same)
    -> first stdout line: "PORT 41234"

Answers, for a POST to any path, in this order:
  401 missing or bad signature (when --secret is given)
  400 body is not JSON
  500 the first --fail-first N requests that got this far
  --status CODE, when given, for every request after that
  200 {"ok":true}
A body is appended to --out only when the answer is 2xx; a sender that gave
up waiting (--delay-ms beyond its timeout) and retries is recorded twice, as
a real receiver would see it: dedupe on "idempotencyKey". --delay-ms waits
before answering (every request). Requests are served concurrently.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.failed = 0
        self.out = open(args.out, "ab") if args.out else None

    def take_failure(self):
        """True while the first --fail-first requests are being answered 500."""
        with self.lock:
            if self.failed < self.args.fail_first:
                self.failed += 1
                return True
            return False

    def record(self, line):
        if self.out is None:
            return
        with self.lock:
            self.out.write(line + b"\n")
            self.out.flush()
            os.fsync(self.out.fileno())


def make_handler(state):
    args = state.args

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the gateway's client expects

        def log_message(self, fmt, *a):  # quiet unless asked
            if args.verbose:
                sys.stderr.write("webhook_receiver: " + (fmt % a) + "\n")

        def answer(self, code, obj):
            body = json.dumps(obj, separators=(",", ":")).encode()
            if args.delay_ms > 0:
                time.sleep(args.delay_ms / 1000.0)
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self.answer(405, {"error": "use POST"})

        def do_POST(self):
            arrived_ms = time.time() * 1000.0
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n > 0 else b""
            if args.secret is not None:
                want = "sha256=" + hmac.new(args.secret.encode(), raw, hashlib.sha256).hexdigest()
                got = (self.headers.get("X-OpenClaw-Signature") or "").strip()
                if got.startswith("sha256="):
                    got = "sha256=" + got[7:].lower()  # hex of either case, as the plugin
                if not hmac.compare_digest(want, got):
                    self.answer(401, {"error": "bad signature"})
                    return
            try:
                json.loads(raw)
            except ValueError as e:
                self.answer(400, {"error": "not JSON: %s" % e})
                return
            if state.take_failure():
                self.answer(500, {"error": "failing on purpose (--fail-first)"})
                return
            code = args.status if args.status else 200
            if 200 <= code <= 299:
                line = raw
                if args.timestamps:
                    obj = json.loads(raw)
                    if isinstance(obj, dict):
                        obj["_ts"] = round(arrived_ms, 3)
                    line = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
                elif b"\n" in raw or b"\r" in raw:
                    line = json.dumps(json.loads(raw), separators=(",", ":")).encode()
                state.record(line)
            self.answer(code, {"ok": 200 <= code <= 299})

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("port_arg", nargs="?", type=int, metavar="PORT", help="same as --port")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1; 0 = any free one")
    p.add_argument("--secret", help="HMAC key; without it signatures are not checked")
    p.add_argument("--out", help="append each accepted body as one line to this file")
    p.add_argument("--fail-first", type=int, default=0, metavar="N",
                   help="answer 500 to the first N requests")
    p.add_argument("--status", type=int, default=0, metavar="CODE",
                   help="always answer CODE (after --fail-first)")
    p.add_argument("--delay-ms", type=int, default=0, help="wait before each answer")
    p.add_argument("--timestamps", action="store_true",
                   help='add "_ts" (arrival, ms since the epoch) to each --out line')
    p.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = p.parse_args()

    port = args.port_arg if args.port_arg is not None else args.port
    state = State(args)
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(state))
    server.daemon_threads = True
    print("PORT %d" % server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
