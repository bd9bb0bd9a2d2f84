#!/usr/bin/env python3
"""Alert latency: from the event that crosses a log rule's threshold to the
mail in an SMTP server's hands, with grouping off.

Starts aiosmtpd (tests/peers/smtp_server.py, Debian's python3-aiosmtpd) and
`hark serve` with one TCP syslog input, a mail channel with group_wait 0s
and a rule `count > 2` grouped by host; then, N times, sends two lines for a
new host, waits, sends the third line (the crossing one) and measures until
the mail file appears. Prints the median, p90 and max in milliseconds.

    bench/alert_latency.py [-n TRIALS] [--hark target/release/hark]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_line(proc, prefix, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and proc.poll() is not None:
            break
    raise SystemExit(f"no {prefix!r} from {proc.args}")


def syslog_line(host, text):
    msg = f"<38>1 2026-01-01T00:00:00Z {host} sshd - - - {text}"
    data = msg.encode()
    return f"{len(data)} ".encode() + data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--hark", default=os.path.join(REPO, "target/release/hark"))
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="hark-bench-latency-")
    mails = os.path.join(work, "mails")
    smtp_port, syslog_port, http_port = free_port(), free_port(), free_port()
    smtp = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(REPO, "tests/peers/smtp_server.py"),
         "--port", str(smtp_port), "--dir", mails],
        stdout=subprocess.PIPE, text=True)
    wait_line(smtp, "ready")
    config = os.path.join(work, "hark.toml")
    with open(config, "w") as f:
        f.write(f"""data_dir = "{work}/data"
[http]
listen = "127.0.0.1:{http_port}"
[inputs.tcp]
type = "syslog"
transport = "tcp"
listen = "127.0.0.1:{syslog_port}"
[notify.mail]
type = "smtp"
host = "127.0.0.1"
port = {smtp_port}
tls = "none"
from = "Hark <hark@example.test>"
to = ["ops@example.test"]
group_wait = "0s"
group_interval = "0s"
[alerts.ssh]
type = "log"
query = 'app:sshd AND "Failed password"'
group_by = ["host"]
window = "1h"
condition = "count > 2"
notify = ["mail"]
""")
    hark = subprocess.Popen([a.hark, "serve", "--config", config],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        wait_line(hark, "ready")
        conn = socket.create_connection(("127.0.0.1", syslog_port))
        results = []
        for i in range(a.n):
            host = f"lat{i}"
            conn.sendall(syslog_line(host, "Failed password for root") * 2)
            time.sleep(0.3)
            before = len([n for n in os.listdir(mails) if not n.startswith(".")])
            t0 = time.monotonic()
            conn.sendall(syslog_line(host, "Failed password for root"))
            while len([n for n in os.listdir(mails) if not n.startswith(".")]) <= before:
                if time.monotonic() - t0 > 30:
                    raise SystemExit(f"trial {i}: no mail within 30 s")
                time.sleep(0.002)
            results.append((time.monotonic() - t0) * 1000)
            time.sleep(0.2)
        results.sort()
        p90 = results[int(len(results) * 0.9) - 1]
        print(f"trials {len(results)}: median {statistics.median(results):.0f} ms, "
              f"p90 {p90:.0f} ms, max {results[-1]:.0f} ms")
    finally:
        hark.terminate()
        smtp.terminate()
        hark.wait()
        smtp.wait()


if __name__ == "__main__":
    sys.exit(main())
