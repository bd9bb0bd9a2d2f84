#!/usr/bin/env python3
"""Measures one window of the monitoring benchmark, and prints the results table.

    monitor_metrics.py measure hark --url http://127.0.0.1:P --pid PID \
        --nginx-status http://127.0.0.1:P --nginx-pid PID --duration S --interval S \
        --monitors N --run R [--every S]
    monitor_metrics.py measure blackbox --url http://127.0.0.1:PROM --pid BLACKBOX_PID \
        --driver-pid PROMETHEUS_PID --nginx-status ... --nginx-pid ... (same options)
    monitor_metrics.py table RESULTS.jsonl

`measure` samples at the start of the window, every `--every` seconds and at
its end, then prints one JSON line:

- checks (Hark: `hark_monitor_checks_total`; blackbox: the samples of `up`
  Prometheus stored for the two probe jobs in the window) per minute, by type,
  and how many were OK;
- lateness: Hark's `hark_monitor_check_lateness_seconds` (time from due to
  start). The exporter renders it as a summary over the last 40-60 s, so the
  median is the median of the sampled medians and p99 the largest sampled
  p99; the mean is Δsum/Δcount. For Prometheus, which does not export its
  lateness, each target's scrape timestamps are laid on that target's grid
  (`anchor + k × interval`, the anchor being the earliest-placed scrape in the
  window), which measures lateness relative to the target's most punctual
  scrape; Prometheus' own `prometheus_target_interval_length_seconds`
  (the time between two scrapes of a target) is reported too;
- check duration: Hark's `hark_monitor_check_duration_seconds` (as above);
  blackbox's `probe_duration_seconds` and Prometheus' `scrape_duration_seconds`;
- CPU (utime+stime from /proc/PID/stat over the window, all threads) as % of
  one core and µs per check, for the checker, the driver (Prometheus) and
  nginx (master and workers); RSS (VmRSS at the end, VmHWM);
- nginx's own counts (stub_status): connections accepted and requests served
  in the window, a check of the rate independent of either tool.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
import time
import urllib.parse
import urllib.request

CLK = os.sysconf("SC_CLK_TCK")
LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def get(url, timeout=30):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def parse_prom(text):
    """Prometheus text format -> list of (name, labels dict, value)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(2) or ""))
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def children(pid):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == pid:
            kids.append(int(entry))
    return kids


def group_cpu(pids):
    total = 0
    for p in pids:
        try:
            total += cpu_ticks(p)
        except OSError:
            pass
    return total


def nginx_status(url):
    text = get(url)
    nums = re.search(r"\n\s*(\d+)\s+(\d+)\s+(\d+)", text)
    return {"accepts": int(nums.group(1)), "handled": int(nums.group(2)),
            "requests": int(nums.group(3))}


def hark_sample(url):
    s = {"t": time.time(), "checks": {}, "lateness": {}, "duration": {}}
    for name, labels, value in parse_prom(get(url + "/metrics")):
        kind = labels.get("type")
        if name == "hark_monitor_checks_total":
            s["checks"][f"{kind}/{labels.get('status')}"] = value
        for metric, key in (("hark_monitor_check_lateness_seconds", "lateness"),
                            ("hark_monitor_check_duration_seconds", "duration")):
            d = s[key].setdefault(kind, {}) if name.startswith(metric) else None
            if d is None:
                continue
            if name == metric and "quantile" in labels:
                d[labels["quantile"]] = value
            elif name == metric + "_sum":
                d["sum"] = value
            elif name == metric + "_count":
                d["count"] = value
    return s


def quantile(sorted_vals, q):
    if not sorted_vals:
        return None
    i = min(len(sorted_vals) - 1, max(0, math.ceil(q * len(sorted_vals)) - 1))
    return sorted_vals[i]


def summary_stats(samples, key, kind):
    """Median of sampled medians, largest sampled p99 and max, Δsum/Δcount."""
    got = [s[key].get(kind, {}) for s in samples]
    p50 = [g["0.5"] for g in got[1:] if "0.5" in g]
    p99 = [g["0.99"] for g in got[1:] if "0.99" in g]
    top = [g["1"] for g in got[1:] if "1" in g]
    first, last = got[0], got[-1]
    n = last.get("count", 0) - first.get("count", 0)
    mean = (last.get("sum", 0) - first.get("sum", 0)) / n if n > 0 else None
    return {"p50": statistics.median(p50) if p50 else None, "p99": max(p99) if p99 else None,
            "max": max(top) if top else None, "mean": mean}


def prom_query(url, query, at):
    q = urllib.parse.urlencode({"query": query, "time": f"{at:.3f}"})
    body = json.loads(get(f"{url}/api/v1/query?{q}", timeout=120))
    if body.get("status") != "success":
        raise SystemExit(f"Prometheus query {query!r} failed: {body}")
    return body["data"]["result"]


def prom_self(url):
    """Prometheus' interval-length summary, from its own /metrics."""
    out = {}
    for name, labels, value in parse_prom(get(url + "/metrics")):
        if name == "prometheus_target_interval_length_seconds":
            out[labels["quantile"]] = value
        elif name == "prometheus_target_interval_length_seconds_count":
            out["count"] = value
    return out


def blackbox_window(url, t0, t1, interval):
    """Scrapes, lateness and durations of the probe jobs in (t0, t1]."""
    span = f"{int(round(t1 - t0))}s"
    res = {}
    late_all = []
    for job, kind in (("bb_http", "http"), ("bb_tcp", "tcp")):
        ups = prom_query(url, f'up{{job="{job}"}}[{span}]', t1)
        ok = prom_query(url, f'probe_success{{job="{job}"}}[{span}]', t1)
        probe = prom_query(url, f'probe_duration_seconds{{job="{job}"}}[{span}]', t1)
        scrape = prom_query(url, f'scrape_duration_seconds{{job="{job}"}}[{span}]', t1)
        count = sum(len(s["values"]) for s in ups)
        success = sum(1 for s in ok for _, v in s["values"] if float(v) == 1.0)
        late = []
        for s in ups:
            ts = sorted(float(t) for t, _ in s["values"])
            if len(ts) < 2:
                continue
            ks = [round((t - ts[0]) / interval) for t in ts]
            placed = [t - k * interval for t, k in zip(ts, ks)]
            anchor = min(placed)
            late.extend(p - anchor for p in placed)
        late.sort()
        late_all.extend(late)
        pd = sorted(float(v) for s in probe for _, v in s["values"])
        sd = sorted(float(v) for s in scrape for _, v in s["values"])
        res[kind] = {
            "checks": count, "ok": success,
            "lateness": {"p50": quantile(late, 0.5), "p99": quantile(late, 0.99),
                         "max": late[-1] if late else None,
                         "mean": statistics.fmean(late) if late else None},
            "duration": {"p50": quantile(pd, 0.5), "p99": quantile(pd, 0.99),
                         "max": pd[-1] if pd else None,
                         "mean": statistics.fmean(pd) if pd else None},
            "scrape_duration": {"p50": quantile(sd, 0.5), "p99": quantile(sd, 0.99)},
        }
    return res


def measure(a):
    nginx_pids = [a.nginx_pid] + children(a.nginx_pid)
    load = open("/proc/loadavg").read().split()[:3]
    watched = {"checker": [a.pid]}
    if a.driver_pid:
        watched["driver"] = [a.driver_pid]
    watched["nginx"] = nginx_pids
    samples = []
    prom0 = None

    def sample():
        if a.tool == "hark":
            samples.append(hark_sample(a.url))
        else:
            samples.append({"t": time.time()})

    n0 = nginx_status(a.nginx_status)
    c0 = {k: group_cpu(v) for k, v in watched.items()}
    t0 = time.time()
    sample()
    if a.tool == "blackbox":
        prom0 = prom_self(a.url)
    end = t0 + a.duration
    while True:
        left = end - time.time()
        if left <= 0:
            break
        time.sleep(min(a.every, left))
        if end - time.time() > 1:
            sample()
    t1 = time.time()
    c1 = {k: group_cpu(v) for k, v in watched.items()}
    n1 = nginx_status(a.nginx_status)
    sample()
    dt = t1 - t0
    rss = {k: status_kb(v[0], "VmRSS") / 1024 for k, v in watched.items() if k != "nginx"}
    hwm = {k: status_kb(v[0], "VmHWM") / 1024 for k, v in watched.items() if k != "nginx"}
    out = {"tool": a.tool, "run": a.run, "duration": dt, "interval": a.interval,
           "monitors": a.monitors, "target_per_min": a.monitors * 60 / a.interval,
           "load_before": [float(x) for x in load], "types": {}}
    if a.tool == "hark":
        first, last = samples[0], samples[-1]
        total = 0
        for kind in ("http", "tcp"):
            keys = {k for k in last["checks"] if k.startswith(kind + "/")}
            n = sum(last["checks"][k] - first["checks"].get(k, 0) for k in keys)
            ok = last["checks"].get(f"{kind}/OK", 0) - first["checks"].get(f"{kind}/OK", 0)
            total += n
            out["types"][kind] = {
                "checks": n, "ok": ok,
                "lateness": summary_stats(samples, "lateness", kind),
                "duration": summary_stats(samples, "duration", kind),
            }
    else:
        time.sleep(a.interval)  # let scrapes that started before t1 land
        out["types"] = blackbox_window(a.url, t0, t1, a.interval)
        total = sum(v["checks"] for v in out["types"].values())
        prom1 = prom_self(a.url)
        out["prometheus_interval_length"] = {
            q: prom1.get(q) for q in ("0.01", "0.5", "0.9", "0.99")}
        out["prometheus_scrapes"] = prom1.get("count", 0) - prom0.get("count", 0)
    out["checks"] = total
    out["per_min"] = total * 60 / dt
    out["ok"] = sum(v["ok"] for v in out["types"].values())
    out["lateness_p50"] = max((v["lateness"]["p50"] or 0) for v in out["types"].values())
    out["lateness_p99"] = max((v["lateness"]["p99"] or 0) for v in out["types"].values())
    out["cpu_s"] = {k: (c1[k] - c0[k]) / CLK for k in watched}
    out["cpu_pct"] = {k: v / dt * 100 for k, v in out["cpu_s"].items()}
    out["cpu_us_per_check"] = {k: v * 1e6 / total if total else None
                               for k, v in out["cpu_s"].items()}
    out["rss_mib"] = rss
    out["hwm_mib"] = hwm
    out["nginx"] = {"accepts_per_min": (n1["accepts"] - n0["accepts"]) * 60 / dt,
                    "requests_per_min": (n1["requests"] - n0["requests"]) * 60 / dt}
    print(json.dumps(out))


def fmt(x, nd=0):
    if x is None:
        return "–"
    return f"{x:,.{nd}f}".replace(",", " ")


def ms(x):
    return "–" if x is None else f"{x * 1000:.1f}"


def table(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    head = ("| tool | run | load avg at window start | checks/min (target) | OK checks/min | lateness p50 / p99 ms (http, tcp) | "
            "duration p50 / p99 ms (http, tcp) | CPU % of a core: checker / driver / nginx | "
            "checker µs/check | RSS MiB checker / driver | nginx conn/min |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|")

    def line(r):
        t = r["types"]
        lat = ", ".join(f"{ms(t[k]['lateness']['p50'])} / {ms(t[k]['lateness']['p99'])}" for k in ("http", "tcp"))
        dur = ", ".join(f"{ms(t[k]['duration']['p50'])} / {ms(t[k]['duration']['p99'])}" for k in ("http", "tcp"))
        ok = r["ok"] * 60 / r["duration"]
        cpu = " / ".join(fmt(r["cpu_pct"].get(k), 1) for k in ("checker", "driver", "nginx"))
        rss = " / ".join(fmt(r["rss_mib"].get(k)) for k in ("checker", "driver"))
        return (f"| {r['tool']} | {r['run']} | {r['load_before'][0]:.2f} | {fmt(r['per_min'])} "
                f"({fmt(r['target_per_min'])}) | {fmt(ok)} | {lat} | {dur} | {cpu} | "
                f"{fmt(r['cpu_us_per_check']['checker'], 1)} | {rss} | {fmt(r['nginx']['accepts_per_min'])} |")

    print(head)
    for r in rows:
        print(line(r))
    tools = list(dict.fromkeys(r["tool"] for r in rows))
    if len(rows) > len(tools):
        print("\nMedians per tool:\n")
        print("| tool | runs | checks/min | OK checks/min | lateness p50 / p99 ms (worst type) | "
              "CPU % checker / driver | checker µs/check | RSS MiB checker / driver |\n"
              "|---|---|---|---|---|---|---|---|")
        for tool in tools:
            rs = [r for r in rows if r["tool"] == tool]
            med = statistics.median
            cpu_d = [r["cpu_pct"].get("driver") for r in rs if r["cpu_pct"].get("driver") is not None]
            rss_d = [r["rss_mib"].get("driver") for r in rs if r["rss_mib"].get("driver") is not None]
            print(f"| {tool} | {len(rs)} | {fmt(med([r['per_min'] for r in rs]))} | "
                  f"{fmt(med([r['ok'] * 60 / r['duration'] for r in rs]))} | "
                  f"{ms(med([r['lateness_p50'] for r in rs]))} / {ms(med([r['lateness_p99'] for r in rs]))} | "
                  f"{fmt(med([r['cpu_pct']['checker'] for r in rs]), 1)} / {fmt(med(cpu_d), 1) if cpu_d else '–'} | "
                  f"{fmt(med([r['cpu_us_per_check']['checker'] for r in rs]), 1)} | "
                  f"{fmt(med([r['rss_mib']['checker'] for r in rs]))} / {fmt(med(rss_d)) if rss_d else '–'} |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("tool", choices=["hark", "blackbox"])
    m.add_argument("--url", required=True, help="Hark's API, or Prometheus for blackbox")
    m.add_argument("--pid", type=int, required=True)
    m.add_argument("--driver-pid", type=int)
    m.add_argument("--nginx-status", required=True)
    m.add_argument("--nginx-pid", type=int, required=True)
    m.add_argument("--duration", type=float, required=True)
    m.add_argument("--interval", type=float, required=True)
    m.add_argument("--monitors", type=int, required=True)
    m.add_argument("--run", type=int, default=1)
    m.add_argument("--every", type=float, default=10)
    t = sub.add_parser("table")
    t.add_argument("results")
    a = ap.parse_args()
    if a.cmd == "measure":
        measure(a)
    else:
        table(a.results)


if __name__ == "__main__":
    sys.exit(main())
