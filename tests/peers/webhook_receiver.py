"""A webhook receiver for tests (the system Python's http.server). Answers
500 to the first --fail requests, then 200 "ok". With --secret-file it
checks X-Hark-Signature (sha256=<hex HMAC-SHA256 of the body>, key = the
file without its trailing line break) and answers 401 when it is wrong.
A body sent with Content-Encoding: gzip is decompressed first.
Every request is appended to --log as one JSON line: n, status,
signature_ok (null without a secret), id (X-Hark-Notification-Id),
content_type, content_encoding, authorization and body. Prints "ready PORT" when it listens; runs until killed.

Run: /usr/bin/python3 webhook_receiver.py --log FILE [--port P] [--fail N] [--secret-file F]
"""

import argparse
import gzip
import hashlib
import hmac
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--fail", type=int, default=0)
    p.add_argument("--secret-file")
    a = p.parse_args()
    secret = None
    if a.secret_file:
        with open(a.secret_file, "rb") as f:
            secret = f.read().rstrip(b"\r\n")
    lock = threading.Lock()
    state = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            encoding = self.headers.get("Content-Encoding")
            if encoding == "gzip":
                body = gzip.decompress(body)
            signature_ok = None
            if secret is not None:
                expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
                signature_ok = hmac.compare_digest(
                    expected, self.headers.get("X-Hark-Signature", "")
                )
            with lock:
                state["n"] += 1
                n = state["n"]
                if n <= a.fail:
                    status, answer = 500, "failing on purpose"
                elif signature_ok is False:
                    status, answer = 401, "bad signature"
                else:
                    status, answer = 200, "ok"
                with open(a.log, "a", encoding="utf-8") as f:
                    f.write(
                        json.dumps(
                            {
                                "n": n,
                                "status": status,
                                "signature_ok": signature_ok,
                                "id": self.headers.get("X-Hark-Notification-Id"),
                                "content_type": self.headers.get("Content-Type"),
                                "content_encoding": encoding,
                                "authorization": self.headers.get("Authorization"),
                                "body": body.decode("utf-8", "replace"),
                            }
                        )
                        + "\n"
                    )
                    f.flush()
                    os.fsync(f.fileno())
            data = answer.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print(f"ready {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
