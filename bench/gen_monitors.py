#!/usr/bin/env python3
"""Writes the configurations of the monitoring benchmark into one directory.

    gen_monitors.py DIR --monitors N --interval SECONDS --concurrency C \
        --http-ports P1,P2,... --tcp-ports P1,P2,... --status-port P \
        --hark-http P --blackbox P --prometheus P [--timeout SECONDS] [--nginx-workers W]

Writes:

- nginx.conf: nginx serving a small static page on every HTTP port, the same
  on every TCP port (only connected to), and stub_status on the status port;
- hark.toml: N monitors, half `http` (GET http://127.0.0.1:PORT/?m=I) and
  half `tcp` (connect to 127.0.0.1:PORT), spread round-robin over the ports;
- blackbox.yml: modules http_2xx and tcp_connect (IPv4, no fallback);
- prometheus.yml + http_targets.json + tcp_targets.json: Prometheus scraping
  blackbox_exporter's /probe for the same N targets at the same interval,
  each target labelled `monitor` with the name Hark gives it.
"""

import argparse
import json
import os


def ports(text):
    return [int(p) for p in text.split(",") if p]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--monitors", type=int, required=True)
    ap.add_argument("--interval", type=float, required=True)
    ap.add_argument("--timeout", type=float, default=4.0)
    ap.add_argument("--concurrency", type=int, required=True)
    ap.add_argument("--http-ports", type=ports, required=True)
    ap.add_argument("--tcp-ports", type=ports, required=True)
    ap.add_argument("--status-port", type=int, required=True)
    ap.add_argument("--hark-http", type=int, required=True)
    ap.add_argument("--blackbox", type=int, required=True)
    ap.add_argument("--prometheus", type=int, required=True)
    ap.add_argument("--nginx-workers", type=int, default=2)
    a = ap.parse_args()
    d = os.path.abspath(a.dir)
    os.makedirs(os.path.join(d, "www"), exist_ok=True)
    interval = f"{int(a.interval * 1000)}ms"
    # Prometheus wants scrape_timeout <= scrape_interval; Hark gets the same.
    timeout = f"{int(min(a.timeout, a.interval) * 1000)}ms"

    # The page nginx serves: about the size of its stock welcome page.
    with open(os.path.join(d, "www", "index.html"), "w") as f:
        f.write("<!DOCTYPE html>\n<html><head><title>ok</title></head><body>\n")
        f.write("<p>" + "fine " * 100 + "</p>\n</body></html>\n")

    listens = "".join(f"    listen 127.0.0.1:{p} backlog=4096;\n" for p in a.http_ports + a.tcp_ports)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(f"""worker_processes {a.nginx_workers};
pid {d}/nginx.pid;
error_log {d}/nginx-error.log warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  client_body_temp_path {d}/tmp;
  proxy_temp_path {d}/tmp;
  fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp;
  scgi_temp_path {d}/tmp;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 5s;
  open_file_cache max=16;
  server {{
{listens}    root {d}/www;
    location / {{ index index.html; }}
  }}
  server {{
    listen 127.0.0.1:{a.status_port};
    location / {{ stub_status; }}
  }}
}}
""")
    os.makedirs(os.path.join(d, "tmp"), exist_ok=True)

    http_n = a.monitors // 2
    tcp_n = a.monitors - http_n
    http_targets, tcp_targets = [], []
    with open(os.path.join(d, "hark.toml"), "w") as f:
        # An empty [inputs] table: no log listeners, only the API.
        f.write(f'data_dir = "{d}/hark-data"\n\n[http]\nlisten = "127.0.0.1:{a.hark_http}"\n\n[inputs]\n\n')
        f.write(f"[monitoring]\nconcurrency = {a.concurrency}\n\n")
        for i in range(http_n):
            name = f"http-{i:06d}"
            url = f"http://127.0.0.1:{a.http_ports[i % len(a.http_ports)]}/?m={i}"
            http_targets.append({"targets": [url], "labels": {"monitor": name}})
            f.write(f'[monitors.{name}]\ntype = "http"\nurl = "{url}"\n'
                    f'interval = "{interval}"\ntimeout = "{timeout}"\n\n')
        for i in range(tcp_n):
            name = f"tcp-{i:06d}"
            port = a.tcp_ports[i % len(a.tcp_ports)]
            tcp_targets.append({"targets": [f"127.0.0.1:{port}"], "labels": {"monitor": name}})
            f.write(f'[monitors.{name}]\ntype = "tcp"\nhost = "127.0.0.1"\nport = {port}\n'
                    f'interval = "{interval}"\ntimeout = "{timeout}"\n\n')

    with open(os.path.join(d, "blackbox.yml"), "w") as f:
        f.write(f"""modules:
  http_2xx:
    prober: http
    timeout: {timeout}
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
  tcp_connect:
    prober: tcp
    timeout: {timeout}
    tcp:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
""")
    for name, targets in (("http_targets.json", http_targets), ("tcp_targets.json", tcp_targets)):
        with open(os.path.join(d, name), "w") as f:
            json.dump(targets, f)
    jobs = ""
    for job, module, file in (("bb_http", "http_2xx", "http_targets.json"),
                              ("bb_tcp", "tcp_connect", "tcp_targets.json")):
        jobs += f"""  - job_name: {job}
    metrics_path: /probe
    params:
      module: [{module}]
    file_sd_configs:
      - files: ["{d}/{file}"]
    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - target_label: __address__
        replacement: 127.0.0.1:{a.blackbox}
"""
    with open(os.path.join(d, "prometheus.yml"), "w") as f:
        f.write(f"""global:
  scrape_interval: {interval}
  scrape_timeout: {timeout}
  evaluation_interval: 1m
scrape_configs:
{jobs}""")


if __name__ == "__main__":
    main()
