#!/usr/bin/env python3
"""Times Hark's search API on the events of gen_events.py.

For each query: a few warm-up runs, then --runs timed runs on one kept-alive
connection; reports the median and p90 of the wall time seen by the client
(request to last byte of the JSON) and of the server's own `took_ms`, and
checks the total against the count the generator recorded. Events made
with `gen_events.py --ecs` add the CIDR, IP-range and numeric-range queries
of meta.json's `ecs_queries`; `--only-ecs` times just those.
Prints a JSON summary on stdout; the markdown table goes to stderr.
"""

import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse


def percentile(values, p):
    """Nearest-rank percentile."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--url", required=True)
    ap.add_argument("--token", required=True)
    ap.add_argument("--meta", required=True, help="meta.json from gen_events.py")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--only-ecs", action="store_true", help="only the queries of meta.json's ecs_queries")
    args = ap.parse_args()

    with open(args.meta, encoding="utf-8") as f:
        meta = json.load(f)
    needles = meta["needles"]
    rng = {"from": meta["from"], "to": meta["to"]}
    queries = [
        (f"needle, 1 hit", {"q": "needlealpha", "limit": 100}, needles["needlealpha"]),
        (f"needle, 1 000 hits (newest 100)", {"q": "needledelta", "limit": 100}, needles["needledelta"]),
        (f"needle, 10 000 hits (newest 100)", {"q": "needleecho", "limit": 100}, needles["needleecho"]),
        (
            "host term + phrase (newest 100)",
            {"q": meta["phrase_query"]["q"], "limit": 100},
            meta["phrase_query"]["expected"],
        ),
        (
            "24 h histogram, 1 h buckets, q=* (+ newest 100)",
            {"q": "*", "limit": 100, "histogram": "1h", **rng},
            meta["count"],
        ),
        ("count of everything, q=* (newest 100)", {"q": "*", "limit": 100}, meta["count"]),
    ]
    ecs_queries = [(e["name"] + " (newest 100)", {"q": e["q"], "limit": 100}, e["expected"]) for e in meta.get("ecs_queries", [])]
    if args.only_ecs:
        if not ecs_queries:
            sys.exit(f"{args.meta} has no ecs_queries (generate with gen_events.py --ecs)")
        queries = ecs_queries
    else:
        queries += ecs_queries

    u = urllib.parse.urlsplit(args.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    headers = {"Authorization": f"Bearer {args.token}"}

    def run(params):
        path = "/api/v1/search?" + urllib.parse.urlencode(params)
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        wall = (time.perf_counter() - t0) * 1000
        if resp.status != 200:
            sys.exit(f"{path}: HTTP {resp.status}: {body[:300]!r}")
        reply = json.loads(body)
        return wall, reply

    results = []
    for name, params, expected in queries:
        for _ in range(args.warmup):
            run(params)
        walls, tooks = [], []
        total, hits, buckets = None, None, None
        for _ in range(args.runs):
            wall, reply = run(params)
            walls.append(wall)
            tooks.append(reply["took_ms"])
            total, hits = reply["total"], len(reply["hits"])
            if reply.get("histogram") is not None:
                buckets = len(reply["histogram"])
        results.append(
            {
                "query": name,
                "params": params,
                "expected_total": expected,
                "total": total,
                "hits": hits,
                "histogram_buckets": buckets,
                "wall_ms_median": round(statistics.median(walls), 1),
                "wall_ms_p90": round(percentile(walls, 90), 1),
                "took_ms_median": statistics.median(tooks),
                "took_ms_p90": percentile(tooks, 90),
                "runs": args.runs,
            }
        )

    print("| query | total (expected) | hits | client ms median / p90 | server took_ms median / p90 |", file=sys.stderr)
    print("|---|---|---|---|---|", file=sys.stderr)
    for r in results:
        ok = "" if r["total"] == r["expected_total"] else " **MISMATCH**"
        extra = f", {r['histogram_buckets']} buckets" if r["histogram_buckets"] else ""
        print(
            f"| {r['query']} | {r['total']} ({r['expected_total']}){ok} | {r['hits']}{extra} | "
            f"{r['wall_ms_median']} / {r['wall_ms_p90']} | {r['took_ms_median']} / {r['took_ms_p90']} |",
            file=sys.stderr,
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
