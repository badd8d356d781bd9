#!/usr/bin/env python3
"""Signs and POSTs one JSON body to a channel-webhook inbound URL (tests,
benchmarks, manual checks). python3 stdlib only.

    webhook_send.py http://127.0.0.1:18789/channels/webhook/inbound s3cret \\
        '{"id":"m1","from":"u1","chat":{"type":"direct","id":"u1"},"text":"hi"}'
    webhook_send.py URL SECRET @message.json

The body is sent byte for byte as given (the signature covers those bytes).
Prints "<status>" on the first line and the response body on the next.
Exit status: 0 for a 2xx answer, 1 for any other answer, 2 when no answer.
"""
import argparse
import hashlib
import hmac
import sys
import urllib.error
import urllib.request


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("secret", help="HMAC-SHA256 key (the account's secret)")
    p.add_argument("json", help="the body, or @FILE to read it from a file")
    p.add_argument("--signature", help="send this header value instead of the right one")
    p.add_argument("--no-signature", action="store_true", help="send no signature header")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds")
    args = p.parse_args()

    if args.json.startswith("@"):
        with open(args.json[1:], "rb") as f:
            body = f.read()
    else:
        body = args.json.encode()

    headers = {"Content-Type": "application/json"}
    if not args.no_signature:
        sig = args.signature
        if sig is None:
            sig = "sha256=" + hmac.new(args.secret.encode(), body, hashlib.sha256).hexdigest()
        headers["X-OpenClaw-Signature"] = sig
    req = urllib.request.Request(args.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=args.timeout) as r:
            status, text = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    except (urllib.error.URLError, OSError) as e:
        print("error: %s" % getattr(e, "reason", e), file=sys.stderr)
        return 2
    print(status)
    print(text.decode("utf-8", "replace"))
    return 0 if 200 <= status <= 299 else 1


if __name__ == "__main__":
    sys.exit(main())
