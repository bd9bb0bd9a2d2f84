#!/usr/bin/env python3
"""Polls a receiver's count of kept messages and says when it moved.

  count_probe.py hark URL TOKEN INPUT EXPECTED [--timeout S]
      polls hark_events_stored_total{input=INPUT} (events in the WAL) and the
      search total of input:INPUT (events searchable).
  count_probe.py file PATH EXPECTED [--timeout S]
      counts the lines of PATH.

Polls every 20 ms from now until EXPECTED is reached, or until the count
has not moved for --settle seconds after the first message (messages lost).
Prints JSON with epoch times: "first" (first message seen), "done" (EXPECTED
reached, or the last change), "kept"; for Hark also "searchable" (search
total reached EXPECTED) and "searchable_kept".
"""

import argparse
import http.client
import json
import sys
import time
import urllib.parse

POLL_S = 0.02


class Hark:
    def __init__(self, url, token, input_name):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname, u.port
        self.headers = {"Authorization": f"Bearer {token}"}
        self.input = input_name
        self.conn = None

    def _get(self, path):
        for _ in range(3):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
                self.conn.request("GET", path, headers=self.headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                self.conn = None
                time.sleep(0.1)
        return 0, b""

    def stored(self):
        status, body = self._get("/metrics")
        if status != 200:
            return 0
        want = f'hark_events_stored_total{{input="{self.input}"}}'
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith(want):
                return int(float(line.split()[-1]))
        return 0

    def searchable(self):
        q = urllib.parse.quote(f"input:{self.input}")
        status, body = self._get(f"/api/v1/search?q={q}&limit=1")
        return json.loads(body)["total"] if status == 200 else 0


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    except FileNotFoundError:
        return 0


def watch(count, expected, timeout, settle):
    """Returns (first, done, kept): when the count first moved and when it
    reached `expected` (or stopped moving)."""
    start = time.time()
    first = None
    last, last_change = 0, start
    while True:
        now = time.time()
        n = count()
        if n > 0 and first is None:
            first = now
        if n != last:
            last, last_change = n, now
        if n >= expected:
            return first, now, n
        if first is not None and now - last_change > settle:
            return first, last_change, n
        if now - start > timeout:
            return first, last_change, n
        time.sleep(POLL_S)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["hark", "file"])
    p.add_argument("args", nargs="+")
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--settle", type=float, default=30)
    a = p.parse_args()
    out = {}
    if a.kind == "hark":
        url, token, input_name, expected = a.args
        expected = int(expected)
        hark = Hark(url, token, input_name)
        first, done, kept = watch(hark.stored, expected, a.timeout, a.settle)
        out.update(first=first, done=done, kept=kept)
        _, searchable, skept = watch(hark.searchable, expected, a.timeout, a.settle)
        out.update(searchable=searchable, searchable_kept=skept)
    else:
        path, expected = a.args
        first, done, kept = watch(lambda: count_lines(path), int(expected), a.timeout, a.settle)
        out.update(first=first, done=done, kept=kept)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    sys.exit(main())
