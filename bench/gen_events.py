#!/usr/bin/env python3
"""Generates benchmark events from the loghub corpus.

Every event is one loghub line (real text from 16 systems) with a host from a
fixed pool, an application name, a severity guessed from the line, and a
timestamp; timestamps rise evenly over the last `--span-hours` hours with a
little jitter, as a day of logs would arrive. A few "needle" tokens are
appended to events at random positions, each at a known count, so that a
rare-term search has an exact expected total.

Writes, in OUT_DIR:
  events.log     one RFC 5424 message per line (the raw text `rg` searches,
                 and the "raw bytes" the index size is compared to)
  events.ndjson  the same events for POST /api/v1/ingest (explicit timestamps)
  meta.json      count, time range, raw bytes, needle counts and the expected
                 totals of the benchmark queries

Deterministic for a given --seed and --now.
"""

import argparse
import json
import os
import random
import re
import sys
import time
from datetime import datetime, timezone

CORPUS_DEFAULT = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "corpora", "loghub"
)

# Needle tokens and how many events carry each. Distinct words, so that no
# needle is a prefix of another and `rg -w` counts them exactly.
NEEDLES = {
    "needlealpha": 1,
    "needlebravo": 10,
    "needlecharlie": 100,
    "needledelta": 1000,
    "needleecho": 10000,
}

# The phrase of the host + phrase query; PHRASE_HOST is one of the hosts.
PHRASE = ("failed", "password")
PHRASE_HOST = "host-042"

# Application name per loghub file, for lines that do not carry their own.
APP_BY_FILE = {
    "Android": "android",
    "Apache": "httpd",
    "BGL": "bgl-ras",
    "HDFS": "hdfs-datanode",
    "HPC": "hpc-node",
    "Hadoop": "hadoop-mr",
    "HealthApp": "healthapp",
    "Linux": "linux",
    "Mac": "macos",
    "OpenSSH": "sshd",
    "OpenStack": "nova-api",
    "Proxifier": "proxifier",
    "Spark": "spark-executor",
    "Thunderbird": "thunderbird",
    "Windows": "cbs",
    "Zookeeper": "zookeeper",
}

# BSD syslog lines without PRI (Linux, OpenSSH, Mac): header stripped, app kept.
BSD_HEADER = re.compile(
    r"^[A-Z][a-z]{2} +\d{1,2} \d\d:\d\d:\d\d \S+ ([A-Za-z0-9_.()/-]+?)(?:\[\d+\])?: ?(.*)$"
)
TOKEN = re.compile(r"[0-9a-z]+")

SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"]

# destination.port values of --ecs events and their weights.
ECS_PORTS = [(443, 30), (80, 15), (53, 15), (22, 8), (3389, 5), (445, 5), (25, 4), (123, 4), (8080, 4), (3306, 3),
             (389, 3), (1433, 2), (5432, 2)]
# First octets of "public" source and destination addresses: routable unicast,
# outside 10/8, 127/8, 172.16/12, 192.168/16, 100.64/10 and multicast.
PUBLIC_FIRST = [o for o in range(1, 224) if o not in (10, 100, 127, 172, 192)]


def severity_of(line):
    """A severity code guessed from the words in a line."""
    upper = line.upper()
    if "FATAL" in upper or "CRITICAL" in upper:
        return 2
    if "ERROR" in upper or " E " in line[:40] or "FAIL" in upper:
        return 3
    if "WARN" in upper or " W " in line[:40]:
        return 4
    if "DEBUG" in upper or " D " in line[:40]:
        return 7
    if "NOTICE" in upper:
        return 5
    return 6


def has_phrase(message):
    """Whether the message holds PHRASE as consecutive tokens, as the index sees it."""
    toks = TOKEN.findall(message.lower())
    n = len(PHRASE)
    return any(tuple(toks[i : i + n]) == PHRASE for i in range(len(toks) - n + 1))


def load_corpus(corpus_dir):
    """Returns [(app, message, severity_code, phrase_hit)] from every *.log file."""
    entries = []
    for name in sorted(os.listdir(corpus_dir)):
        if not name.endswith(".log"):
            continue
        system = name.split("_")[0]
        default_app = APP_BY_FILE.get(system, system.lower())
        with open(os.path.join(corpus_dir, name), encoding="utf-8", errors="replace") as f:
            for raw in f:
                line = raw.rstrip("\r\n")
                if not line.strip():
                    continue
                app, message = default_app, line
                m = BSD_HEADER.match(line)
                if m and system in ("Linux", "OpenSSH", "Mac"):
                    app = re.sub(r"[^A-Za-z0-9_.-]", "", m.group(1))[:48] or default_app
                    message = m.group(2)
                # RFC 5424 messages are one line; keep text printable.
                message = message.replace("\t", " ")
                entries.append((app, message, severity_of(line), has_phrase(message)))
    if not entries:
        sys.exit(f"no *.log lines in {corpus_dir}")
    return entries


class EcsFields:
    """Draws the --ecs fields of one event and counts the benchmark queries' totals."""

    def __init__(self, rng):
        self.rng = rng
        ports, weights = zip(*ECS_PORTS)
        self.ports = [p for p, w in zip(ports, weights) for _ in range(w)]
        self.events = 0
        self.src_10 = 0
        self.src_10_1 = 0
        self.bytes_over_1m = 0
        self.rdp_from_10 = 0

    def _ip(self, private_share):
        r = self.rng
        if r.random() < private_share:
            return 10, f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
        first = r.choice(PUBLIC_FIRST)
        return first, f"{first}.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"

    def draw(self):
        """(source ip, destination ip, destination port, bytes), counted."""
        first, src = self._ip(0.6)
        _, dst = self._ip(0.5)
        port = self.rng.choice(self.ports)
        nbytes = int(10 ** self.rng.uniform(1, 8))
        self.events += 1
        if first == 10:
            self.src_10 += 1
            if src.startswith("10.1."):
                self.src_10_1 += 1
            if port == 3389:
                self.rdp_from_10 += 1
        if nbytes > 1_000_000:
            self.bytes_over_1m += 1
        return src, dst, port, nbytes

    def queries(self):
        """The benchmark queries over these fields with their expected totals."""
        return [
            {"name": "CIDR: source.ip in 10.0.0.0/8", "q": "source.ip:10.0.0.0/8", "expected": self.src_10},
            {
                "name": "IP range: source.ip 10.1.0.0–10.1.255.255",
                "q": "source.ip:[10.1.0.0 TO 10.1.255.255]",
                "expected": self.src_10_1,
            },
            {"name": "numeric: network.bytes > 1 000 000", "q": "network.bytes:>1000000", "expected": self.bytes_over_1m},
            {
                "name": "port AND CIDR: destination.port 3389 from 10.0.0.0/8",
                "q": "destination.port:3389 AND source.ip:10.0.0.0/8",
                "expected": self.rdp_from_10,
            },
        ]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", "--count", type=int, default=10_000_000, help="events (default 10 000 000)")
    ap.add_argument("-o", "--out", required=True, help="output directory")
    ap.add_argument("--corpus", default=CORPUS_DEFAULT, help="directory of loghub *.log files")
    ap.add_argument("--hosts", type=int, default=200, help="distinct hosts (default 200)")
    ap.add_argument("--span-hours", type=float, default=24.0, help="time span (default 24)")
    ap.add_argument("--now", type=float, default=None, help="end of the span, epoch seconds (default: now)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--ecs", type=float, default=0.0, help="fraction of events with ECS network fields (default 0)")
    args = ap.parse_args()

    n = args.count
    needles_total = sum(NEEDLES.values())
    if n < needles_total:
        sys.exit(f"--count must be at least {needles_total} (the needles)")
    if args.hosts <= int(PHRASE_HOST.split("-")[1]):
        sys.exit(f"--hosts must exceed {PHRASE_HOST.split('-')[1]}")
    rng = random.Random(args.seed)
    entries = load_corpus(args.corpus)
    hosts = [f"host-{i:03d}" for i in range(args.hosts)]

    end_ns = int((args.now if args.now is not None else time.time()) * 1e9)
    span_ns = int(args.span_hours * 3600 * 1e9)
    start_ns = end_ns - span_ns
    step_ns = span_ns / n

    # Which events carry which needle: distinct random positions.
    needle_at = {}
    for pos, word in zip(rng.sample(range(n), needles_total), (w for w, c in NEEDLES.items() for _ in range(c))):
        needle_at[pos] = word
    # A separate generator, so that the events without --ecs stay as they were.
    ecs = EcsFields(random.Random(args.seed + 1)) if args.ecs > 0 else None
    ecs_share = args.ecs
    ecs_random = ecs.rng.random if ecs else None

    # Per-entry precomputed pieces: JSON-escaped message and app.
    json_msg = [json.dumps(e[1], ensure_ascii=False) for e in entries]
    json_app = {e[0]: json.dumps(e[0]) for e in entries}

    os.makedirs(args.out, exist_ok=True)
    log_path = os.path.join(args.out, "events.log")
    nd_path = os.path.join(args.out, "events.ndjson")
    raw_bytes = 0
    phrase_expected = 0
    host_expected = 0
    second_cache = {}
    n_entries = len(entries)
    n_hosts = len(hosts)
    randrange = rng.randrange
    random_ = rng.random
    t0 = time.time()
    with open(log_path, "w", encoding="utf-8", buffering=4 << 20) as log, open(
        nd_path, "w", encoding="utf-8", buffering=4 << 20
    ) as nd:
        log_parts, nd_parts = [], []
        for i in range(n):
            ts = start_ns + int((i + random_()) * step_ns)
            sec, frac = divmod(ts, 1_000_000_000)
            prefix = second_cache.get(sec)
            if prefix is None:
                if len(second_cache) > 4096:
                    second_cache.clear()
                prefix = datetime.fromtimestamp(sec, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
                second_cache[sec] = prefix
            stamp = f"{prefix}.{frac // 1000:06d}Z"
            k = randrange(n_entries)
            app, message, sev, phrase = entries[k]
            host = hosts[randrange(n_hosts)]
            msg_json = json_msg[k]
            word = needle_at.get(i)
            if word is not None:
                message = f"{message} {word}"
                msg_json = json.dumps(message, ensure_ascii=False)
            if host == PHRASE_HOST:
                host_expected += 1
                if phrase:
                    phrase_expected += 1
            sd, nd_extra = "-", ""
            if ecs is not None and ecs_random() < ecs_share:
                src, dst, port, nbytes = ecs.draw()
                sd = (
                    f'[ecs source.ip="{src}" destination.ip="{dst}" destination.port="{port}" '
                    f'network.bytes="{nbytes}"]'
                )
                nd_extra = (
                    f',"source.ip":"{src}","destination.ip":"{dst}","destination.port":{port},'
                    f'"network.bytes":{nbytes}'
                )
            # <PRI>: facility user (1) for every event.
            line = f"<{8 + sev}>1 {stamp} {host} {app} - - {sd} {message}\n"
            log_parts.append(line)
            nd_parts.append(
                f'{{"timestamp":"{stamp}","host":"{host}","app":{json_app[app]},'
                f'"severity":"{SEVERITIES[sev]}","message":{msg_json}{nd_extra}}}\n'
            )
            if len(log_parts) >= 65536:
                chunk = "".join(log_parts)
                raw_bytes += len(chunk.encode("utf-8"))
                log.write(chunk)
                nd.write("".join(nd_parts))
                log_parts.clear()
                nd_parts.clear()
                if sys.stderr.isatty() or (i + 1) % 1_048_576 < 65536:
                    print(f"  {i + 1} events, {time.time() - t0:.0f} s", file=sys.stderr)
        chunk = "".join(log_parts)
        raw_bytes += len(chunk.encode("utf-8"))
        log.write(chunk)
        nd.write("".join(nd_parts))

    meta = {
        "count": n,
        "hosts": n_hosts,
        "corpus_lines": n_entries,
        "from_ns": start_ns,
        "to_ns": end_ns,
        "from": datetime.fromtimestamp(start_ns / 1e9, timezone.utc).isoformat().replace("+00:00", "Z"),
        "to": datetime.fromtimestamp(end_ns / 1e9, timezone.utc).isoformat().replace("+00:00", "Z"),
        "raw_bytes": raw_bytes,
        "needles": NEEDLES,
        "phrase_query": {
            "q": f'host:{PHRASE_HOST} AND "{" ".join(PHRASE)}"',
            "expected": phrase_expected,
            "host_events": host_expected,
        },
        "seed": args.seed,
    }
    if ecs is not None:
        meta["ecs"] = {"share": ecs_share, "events": ecs.events}
        meta["ecs_queries"] = ecs.queries()
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta), file=sys.stderr)
    print(f"generated {n} events in {time.time() - t0:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
