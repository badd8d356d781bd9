#!/usr/bin/env python3
"""A loopback server with the answers a real upstream rarely gives, for the
oc-llm-load test (llm_load_test.sh): one behaviour per request path.

    llm_load_fixture.py        prints "listening on PORT", serves until killed

  /garbage     a response head that is not HTTP
  /nochoices   200 with a JSON body that is not a chat completion
  /nodone      an SSE stream that ends without "data: [DONE]"
  /errorevent  an SSE stream with an error event
  /cut         Content-Length 100, 10 bytes, then the connection closes
  /badchunk    chunked framing with a chunk size that is not hex
  /coalesce    an SSE stream whose content events are written two per write
               (two writes 50 ms apart): the client must see coalesced reads
  /closeidle   a chat completion, then the connection is closed at once
               without notice (a keep-alive connection closed while idle)
  /early       a chat completion sent as soon as the head is in, before the
               body is read (then the body is read and dropped): with a big
               body the answer beats the client's own write
Anything else: 404. Keep-alive: requests on a connection are answered in turn.
Timing here is the fixture's behaviour, not a wait in the test.
"""
import socket
import socketserver
import sys
import time

CHUNK = b'data: {"choices":[{"index":0,"delta":{"content":"tok"}}]}\n\n'
DONE = b"data: [DONE]\n\n"
ERROR = b'data: {"error":{"message":"upstream failed","type":"server_error"}}\n\n'


COMPLETION = (b'{"id":"x","object":"chat.completion","choices":[{"index":0,"message":'
              b'{"role":"assistant","content":"early"},"finish_reason":"stop"}]}')
COMPLETION_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(COMPLETION))


def chunk(data):
    return b"%x\r\n%s\r\n" % (len(data), data)


SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")


class Handler(socketserver.BaseRequestHandler):
    def read_request(self, buf):
        """Returns (path, rest of the buffer) for one request, or None at EOF.
        /early is answered between the head and the body."""
        while b"\r\n\r\n" not in buf:
            data = self.request.recv(65536)
            if not data:
                return None
            buf += data
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if path == "/early":
            self.request.sendall(COMPLETION_HEAD + COMPLETION)
        while len(buf) < length:
            data = self.request.recv(65536)
            if not data:
                return None
            buf += data
        return path, buf[length:]

    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        while True:
            got = self.read_request(buf)
            if got is None:
                return
            path, buf = got
            if not self.answer(path):
                return

    def answer(self, path):
        """Sends the answer for path; False when the connection must close."""
        s = self.request.sendall
        if path == "/garbage":
            s(b"HELLO WORLD\r\n\r\n")
            return False
        if path == "/nochoices":
            body = b'{"ok":true}'
            s(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
              % (len(body), body))
            return True
        if path == "/nodone":
            s(SSE_HEAD + chunk(CHUNK) + chunk(CHUNK) + b"0\r\n\r\n")
            return True
        if path == "/errorevent":
            s(SSE_HEAD + chunk(CHUNK) + chunk(ERROR) + chunk(DONE) + b"0\r\n\r\n")
            return True
        if path == "/cut":
            s(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
              b'{"choices"')
            return False
        if path == "/badchunk":
            s(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nxx\r\n0\r\n\r\n")
            return False
        if path == "/coalesce":
            s(SSE_HEAD)
            s(chunk(CHUNK + CHUNK))
            time.sleep(0.05)
            s(chunk(CHUNK + CHUNK))
            s(chunk(DONE) + b"0\r\n\r\n")
            return True
        if path == "/closeidle":
            s(COMPLETION_HEAD + COMPLETION)
            return False
        if path == "/early":
            return True  # answered in read_request
        s(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # oc-llm-load opens its whole pool at once


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print("listening on %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
