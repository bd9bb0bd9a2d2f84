#!/usr/bin/env python3
"""Posts an NDJSON file to Hark's POST /api/v1/ingest in chunks.

Each chunk is answered only once its events are durable in the WAL, so when
this returns every event has been accepted (or a rejection is reported and
the exit status is 1). Several connections keep the server busy while a
chunk is being parsed.
"""

import argparse
import http.client
import json
import queue
import sys
import threading
import time
import urllib.parse


def chunks(path, lines_per_chunk):
    """Yields bytes holding up to `lines_per_chunk` lines each."""
    buf, n = [], 0
    with open(path, "rb", buffering=8 << 20) as f:
        for line in f:
            buf.append(line)
            n += 1
            if n == lines_per_chunk:
                yield b"".join(buf), n
                buf, n = [], 0
    if buf:
        yield b"".join(buf), n


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("file")
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:8514")
    ap.add_argument("--token", required=True)
    ap.add_argument("--chunk", type=int, default=20_000, help="lines per request")
    ap.add_argument("--connections", type=int, default=2)
    args = ap.parse_args()

    u = urllib.parse.urlsplit(args.url)
    work = queue.Queue(maxsize=args.connections * 2)
    lock = threading.Lock()
    totals = {"accepted": 0, "rejected": 0, "sent": 0, "errors": []}

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
        while True:
            item = work.get()
            if item is None:
                return
            body, n = item
            for attempt in range(5):
                try:
                    conn.request(
                        "POST",
                        "/api/v1/ingest",
                        body=body,
                        headers={
                            "Authorization": f"Bearer {args.token}",
                            "Content-Type": "application/x-ndjson",
                        },
                    )
                    resp = conn.getresponse()
                    data = resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}: {data[:300]!r}")
                    reply = json.loads(data)
                    break
                except (OSError, http.client.HTTPException, RuntimeError) as e:
                    if attempt == 4:
                        with lock:
                            totals["errors"].append(str(e))
                        reply = {"accepted": 0, "rejected": n, "errors": []}
                        break
                    conn.close()
                    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
                    time.sleep(0.5)
            with lock:
                totals["accepted"] += reply.get("accepted", 0)
                totals["rejected"] += reply.get("rejected", 0)
                totals["sent"] += n
                if reply.get("errors"):
                    totals["errors"].extend(str(e) for e in reply["errors"][:3])

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.connections)]
    for t in threads:
        t.start()
    t0 = time.time()
    last = t0
    for item in chunks(args.file, args.chunk):
        work.put(item)
        now = time.time()
        if now - last >= 10:
            last = now
            with lock:
                done = totals["sent"]
            print(f"  loaded {done} events, {done / (now - t0):.0f}/s", file=sys.stderr)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    out = {
        "accepted": totals["accepted"],
        "rejected": totals["rejected"],
        "seconds": round(elapsed, 2),
        "rate": round(totals["accepted"] / elapsed) if elapsed > 0 else 0,
        "errors": totals["errors"][:10],
    }
    print(json.dumps(out))
    sys.exit(1 if totals["rejected"] or totals["errors"] else 0)


if __name__ == "__main__":
    main()
