#!/usr/bin/env python3
"""mock_client.py - small clients the oc-mock-upstream tests drive the mock with
where curl cannot show what matters: raw pipelined exchanges on one
connection, per-event timing of a stream, closing mid-stream, and thousands
of concurrent streams. Every subcommand prints one JSON document on stdout;
errors go to stderr with exit status 1.

  sse FILE                      SSE text -> [{"event": name|null, "data": json|str}]
  exchange PORT N [--timeout S] [--trickle]
                                raw request bytes from stdin, sent in one write
                                (or 3 bytes at a time); reads N responses from
                                the one connection
  stream PORT PATH BODY [-H "Name: value"]...
                                one streamed request; per-event arrival times
  abort PORT PATH BODY [-H ...] [--after-events K]
                                reads K events (0: only the head), then closes
  streams PORT N PATH BODY --pid PID [-H ...]
                                N concurrent streams; peak concurrency and RSS
"""
import argparse
import asyncio
import json
import socket
import sys
import time


def fail(msg):
    print("mock_client: " + msg, file=sys.stderr)
    sys.exit(1)


# ---- SSE ---------------------------------------------------------------------

def parse_sse(text):
    """Strict: events separated by a blank line, fields 'event:' and 'data:'."""
    if not text.endswith("\n\n"):
        fail("SSE text does not end with a blank line: %r" % text[-80:])
    events = []
    for block in text[:-2].split("\n\n"):
        ev = {"event": None, "data": None}
        for line in block.split("\n"):
            if line.startswith("event: "):
                ev["event"] = line[7:]
            elif line.startswith("data: "):
                raw = line[6:]
                try:
                    ev["data"] = json.loads(raw)
                except ValueError:
                    ev["data"] = raw
            else:
                fail("SSE line is neither 'event: ' nor 'data: ': %r" % line)
        if ev["data"] is None:
            fail("SSE event without data: %r" % block)
        events.append(ev)
    return events


# ---- raw HTTP/1.1 responses ----------------------------------------------------

class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by the server")
        self.buf += chunk

    def until(self, sep):
        while sep not in self.buf:
            self._more()
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def exactly(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def rest(self):
        try:
            while True:
                self._more()
        except EOFError:
            pass
        out, self.buf = self.buf, b""
        return out


def read_head(rd):
    head = rd.until(b"\r\n\r\n").decode("latin-1")
    lines = head[:-4].split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        fail("bad status line %r" % lines[0])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def read_response(rd, on_chunk=None):
    """One response; chunked bodies also report their chunks (on_chunk)."""
    status, headers = read_head(rd)
    chunks = []
    if status == 100:
        return {"status": 100, "headers": headers, "body": "", "chunks": []}
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(rd.until(b"\r\n").strip().split(b";")[0], 16)
            if size == 0:
                rd.until(b"\r\n")
                break
            data = rd.exactly(size)
            if rd.exactly(2) != b"\r\n":
                fail("chunk data not followed by CRLF")
            chunks.append(data.decode("utf-8"))
            if on_chunk:
                on_chunk(data)
            body += data
    elif "content-length" in headers:
        body = rd.exactly(int(headers["content-length"]))
    else:
        body = rd.rest()
    return {"status": status, "headers": headers, "body": body.decode("utf-8"),
            "chunks": chunks}


def cmd_exchange(a):
    data = sys.stdin.buffer.read()
    s = socket.create_connection(("127.0.0.1", a.port), timeout=a.timeout)
    if a.trickle:
        # tiny pieces, paced, so the server sees the requests split anywhere
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(data), 3):
            s.sendall(data[i:i + 3])
            time.sleep(0.001)
    else:
        s.sendall(data)
    rd = Reader(s)
    out = []
    try:
        for _ in range(a.n):
            out.append(read_response(rd))
    except (EOFError, socket.timeout) as e:
        out.append({"error": str(e)})
    # Is the connection still open (keep-alive) or closed by the server?
    s.settimeout(0.2)
    try:
        closed = s.recv(1) == b""
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    s.close()
    print(json.dumps({"responses": out, "closed": closed, "leftover": rd.buf.decode("latin-1")}))


def build_request(path, body, headers):
    head = "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" % path
    for h in headers:
        head += h + "\r\n"
    raw = body.encode()
    return (head + "Content-Length: %d\r\n\r\n" % len(raw)).encode() + raw


def cmd_stream(a):
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    s.sendall(build_request(a.path, a.body, a.header))
    rd = Reader(s)
    times = []
    resp = read_response(rd, on_chunk=lambda d: times.append(time.monotonic()))
    s.close()
    ms = [round((t - t0) * 1000, 1) for t in times]
    resp["event_ms"] = ms
    resp["gaps_ms"] = [round(b - a, 1) for a, b in zip(ms, ms[1:])]
    resp["total_ms"] = round((time.monotonic() - t0) * 1000, 1)
    print(json.dumps(resp))


def cmd_abort(a):
    s = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    s.sendall(build_request(a.path, a.body, a.header))
    rd = Reader(s)
    status, headers = read_head(rd)
    got = 0
    while got < a.after_events:
        size = int(rd.until(b"\r\n").strip(), 16)
        rd.exactly(size + 2)
        got += 1
    s.close()
    print(json.dumps({"status": status, "events": got}))


# ---- many concurrent streams -------------------------------------------------

def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("no VmRSS for pid %d" % pid)


async def get_stats(port):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(b"GET /mock/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = await r.read()
    w.close()
    return json.loads(data.split(b"\r\n\r\n", 1)[1])


async def one_stream(port, req, res):
    try:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(req)
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(head.split(b"\r\n")[0].decode())
        events, done = 0, False
        while True:
            size = int((await r.readline()).strip(), 16)
            if size == 0:
                await r.readline()
                break
            data = await r.readexactly(size + 2)
            events += 1
            done = done or data.startswith(b"data: [DONE]")
        w.close()
        res["events"].append(events)
        res["ok" if done else "failed"] += 1
    except Exception as e:  # counted, with the first reasons kept
        res["failed"] += 1
        if len(res["errors"]) < 5:
            res["errors"].append(repr(e))


async def streams_main(a):
    req = build_request(a.path, a.body, a.header)
    res = {"ok": 0, "failed": 0, "errors": [], "events": []}
    rss_before = rss_kb(a.pid)
    t0 = time.monotonic()
    tasks = [asyncio.create_task(one_stream(a.port, req, res)) for _ in range(a.n)]
    peak_open, rss_peak = 0, rss_before
    deadline = time.monotonic() + a.timeout
    # Wait on the condition: all N open at the mock at once.
    while time.monotonic() < deadline:
        st = await get_stats(a.port)
        peak_open = max(peak_open, st["streams_open"])
        rss_peak = max(rss_peak, rss_kb(a.pid))
        if st["streams_open"] >= a.n or all(t.done() for t in tasks):
            break
        await asyncio.sleep(0.05)
    await asyncio.gather(*tasks)
    st = await get_stats(a.port)
    print(json.dumps({
        "ok": res["ok"], "failed": res["failed"], "errors": res["errors"],
        "events_min": min(res["events"]) if res["events"] else 0,
        "events_max": max(res["events"]) if res["events"] else 0,
        "peak_open_seen": peak_open, "streams_max": st["streams_max"],
        "streams_open_after": st["streams_open"],
        "rss_kb_before": rss_before, "rss_kb_peak": rss_peak,
        "bytes_per_stream": (rss_peak - rss_before) * 1024 // max(a.n, 1),
        "seconds": round(time.monotonic() - t0, 2)}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sse")
    s.add_argument("file")
    s = sub.add_parser("exchange")
    s.add_argument("port", type=int)
    s.add_argument("n", type=int)
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--trickle", action="store_true", help="send in 3-byte pieces")
    for name in ("stream", "abort", "streams"):
        s = sub.add_parser(name)
        s.add_argument("port", type=int)
        if name == "streams":
            s.add_argument("n", type=int)
            s.add_argument("--pid", type=int, required=True)
            s.add_argument("--timeout", type=float, default=60)
        s.add_argument("path")
        s.add_argument("body")
        s.add_argument("-H", "--header", action="append", default=[])
        if name == "abort":
            s.add_argument("--after-events", type=int, default=1)
    a = p.parse_args()
    if a.cmd == "sse":
        with open(a.file, encoding="utf-8") as f:
            print(json.dumps(parse_sse(f.read())))
    elif a.cmd == "exchange":
        cmd_exchange(a)
    elif a.cmd == "stream":
        cmd_stream(a)
    elif a.cmd == "abort":
        cmd_abort(a)
    else:
        asyncio.run(streams_main(a))


if __name__ == "__main__":
    main()
