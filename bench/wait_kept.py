#!/usr/bin/env python3
"""Waits until a receiver has kept what was sent, and says when that happened.

  wait_kept.py hark URL TOKEN EXPECTED LOAD_END [--timeout S]
      polls the search total (q=*) and hark_index_lag_events; done when the
      total reaches EXPECTED, or when the lag is 0 and the total has not moved
      for --settle seconds (messages were lost on the way).
  wait_kept.py file PATH EXPECTED LOAD_END [--timeout S]
      counts the lines of PATH; done when they reach EXPECTED or stop growing.

LOAD_END is the epoch time (seconds, fractional) at which the load ended.
Prints JSON: {"kept", "after_end_s"}; after_end_s is when the final count
was first seen, measured from LOAD_END (0 if it was there already).
"""

import argparse
import http.client
import json
import sys
import time
import urllib.parse

POLL_S = 0.05


class HarkProbe:
    def __init__(self, url, token):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.conn = None

    def _get(self, path, auth=True):
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("GET", path, headers=self.headers if auth else {})
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                self.conn = None
                time.sleep(0.1)
        return 0, b""

    def total(self):
        status, body = self._get("/api/v1/search?q=*&limit=1")
        return json.loads(body)["total"] if status == 200 else None

    def lag(self):
        status, body = self._get("/metrics", auth=False)
        if status != 200:
            return None
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("hark_index_lag_events"):
                return float(line.split()[-1])
        return 0.0


class FileProbe:
    def __init__(self, path):
        self.path = path
        self.lines = 0
        self.offset = 0

    def total(self):
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                while True:
                    block = f.read(8 << 20)
                    if not block:
                        break
                    self.lines += block.count(b"\n")
                    self.offset += len(block)
        except FileNotFoundError:
            return 0
        return self.lines

    def lag(self):
        return 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["hark", "file"])
    ap.add_argument("target", help="Hark base URL, or the output file")
    ap.add_argument("rest", nargs="+", help="[TOKEN] EXPECTED LOAD_END")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--settle", type=float, default=5)
    args = ap.parse_args()
    if args.kind == "hark":
        token, expected, load_end = args.rest
        probe = HarkProbe(args.target, token)
    else:
        expected, load_end = args.rest
        probe = FileProbe(args.target)
    expected, load_end = int(expected), float(load_end)

    deadline = time.time() + args.timeout
    last_total, last_change = None, time.time()
    while True:
        now = time.time()
        total = probe.total()
        if total is not None and total != last_total:
            last_total, last_change = total, now
        if total is not None and total >= expected:
            break
        if now - last_change >= args.settle and probe.lag() == 0:
            break
        if now > deadline:
            print(f"timed out with {last_total} of {expected}", file=sys.stderr)
            break
        time.sleep(POLL_S)
    print(json.dumps({"kept": last_total or 0, "after_end_s": round(max(0.0, last_change - load_end), 3)}))


if __name__ == "__main__":
    main()
