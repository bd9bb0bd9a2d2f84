#!/usr/bin/env python3
"""Replay files of real vendor logs for the parse benchmark, and the
syslog-ng parser each format is compared with.

  gen_replay.py lines FORMAT -n N -o FILE
      cycles the cases of crates/hark-parse/samples/FORMAT/*.jsonl into N
      whole syslog lines (newline-terminated, for `loggen --read-file
      --dont-parse`). A case's `line` is sent as it is, with `<134>` put in
      front when it has no PRI (`<38>`, auth.info, for linux_auth). A case
      with only `message` gets the header its sender really writes:
        fortigate   `<189>` and the body (FortiOS' default format has no
                    timestamp or host)
        panos       `<14>Jan  1 00:00:00 PA-VM ` (BSD header, no tag)
        cisco       `<166>Jan 01 2024 00:00:00: ` (ASA with `logging timestamp`)
        cef, leef   `<134>Jan  1 00:00:00 host ` (ArcSight/QRadar forwarders)
        other       `<134>Jan  1 00:00:00 host APP: ` (APP: the case's `app`
                    or `app`)
      Prints JSON: format, lines, bytes, cases.
  gen_replay.py syslog-ng FORMAT
      prints the body of a syslog-ng `parser { … };` block for FORMAT:
      csv-parser() with PAN-OS' columns per log type (from
      crates/hark-parse/src/formats/panos/columns.rs, chosen on the type
      column as syslog-ng's own panos-parser() does), json-parser() for
      json, kv-parser() with tab-separated pairs for leef, and kv-parser()
      for every other format.
"""

import argparse
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLES = os.path.join(HERE, "..", "crates", "hark-parse", "samples")
PANOS_COLUMNS = os.path.join(HERE, "..", "crates", "hark-parse", "src", "formats", "panos", "columns.rs")

BSD_STAMP = "Jan  1 00:00:00"
PRI = re.compile(r"^<\d{1,3}>")


def syslog_line(fmt, case):
    """The whole syslog line a sender of `fmt` writes for one sample case."""
    if "line" in case:
        line = case["line"]
        if not PRI.match(line):
            line = ("<38>" if fmt == "linux_auth" else "<134>") + line
        return line
    msg = case["message"]
    if fmt == "fortigate":
        return "<189>" + msg
    if fmt == "panos":
        return f"<14>{BSD_STAMP} PA-VM {msg}"
    if fmt == "cisco":
        return f"<166>Jan 01 2024 00:00:00: {msg}"
    if fmt in ("cef", "leef"):
        return f"<134>{BSD_STAMP} host {msg}"
    return f"<134>{BSD_STAMP} host {case.get('app') or 'app'}: {msg}"


def cases_of(fmt):
    folder = os.path.join(SAMPLES, fmt)
    cases = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".jsonl"):
            with open(os.path.join(folder, name), encoding="utf-8") as f:
                cases += [json.loads(l) for l in f if l.strip()]
    if not cases:
        sys.exit(f"no samples in {folder}")
    return cases


def write_lines(fmt, n, out):
    lines = []
    for case in cases_of(fmt):
        line = syslog_line(fmt, case)
        # One line per message: a sample with a newline inside would be two.
        lines.append(line.replace("\r", " ").replace("\n", " ") + "\n")
    block = "".join(lines).encode("utf-8")
    written = 0
    with open(out, "wb") as f:
        full, rest = divmod(n, len(lines))
        f.write(block * full)
        f.write("".join(lines[:rest]).encode("utf-8"))
        written = len(block) * full + len("".join(lines[:rest]).encode("utf-8"))
    print(json.dumps({"format": fmt, "lines": n, "bytes": written, "cases": len(lines)}))


def panos_tables():
    """PAN-OS column lists per log type, read from the parser's own table."""
    src = open(PANOS_COLUMNS, encoding="utf-8").read()
    arrays = {}
    for m in re.finditer(r"const (\w+): [^=]*= &?\[(.*?)\];|macro_rules! (\w+) \{\s*\(\) => \{\s*\[(.*?)\]", src, re.S):
        name, body = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        arrays[name] = re.findall(r'"([^"]*)"', body)
    head = arrays["HEAD"]
    session, device = arrays["session_columns"], arrays["device_id_columns"]
    tables = {
        "TRAFFIC": head + session + arrays["TRAFFIC_TAIL"] + device + arrays["TRAFFIC_END"],
        "THREAT": head + session + arrays["THREAT_TAIL"] + device + arrays["THREAT_END"],
        "SYSTEM": head + arrays["SYSTEM_TAIL"],
        "CONFIG": head + arrays["CONFIG_TAIL"],
        "GLOBALPROTECT": head + arrays["GLOBALPROTECT_TAIL"],
        "USERID": head + arrays["USERID_TAIL"],
    }
    # FUTURE_USE columns get a name syslog-ng accepts; they are written like any other.
    return {t: [c or f"future_use_{i}" for i, c in enumerate(cols)] for t, cols in tables.items()}


def csv(columns, greedy=False):
    cols = ", ".join(f'"{c}"' for c in columns)
    flags = " flags(greedy)" if greedy else ""
    return (
        f"csv-parser(columns({cols}) delimiters(',') quote-pairs('\"\"') prefix('panos.')"
        f" template('${{LEGACY_MSGHDR}}${{MESSAGE}}'){flags});"
    )


def syslog_ng_parser(fmt):
    if fmt == "panos":
        tables = panos_tables()
        out = ["parser { " + csv(["future_use_0", "receive_time", "serial", "type", "rest"], greedy=True) + " };"]
        keyword = "if"
        for log_type, columns in tables.items():
            out.append(f'{keyword} ("${{panos.type}}" eq "{log_type}") {{ parser {{ {csv(columns)} }}; }}')
            keyword = "elif"
        return "\n".join(out) + ";"
    if fmt == "json":
        return "parser { json-parser(prefix('json.')); };"
    if fmt == "leef":
        return "parser { kv-parser(pair-separator(\"\\t\") prefix('kv.') template('${LEGACY_MSGHDR}${MESSAGE}')); };"
    return "parser { kv-parser(prefix('kv.') template('${LEGACY_MSGHDR}${MESSAGE}')); };"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    lines = sub.add_parser("lines")
    lines.add_argument("format")
    lines.add_argument("-n", type=int, default=1_000_000)
    lines.add_argument("-o", required=True)
    sng = sub.add_parser("syslog-ng")
    sng.add_argument("format")
    args = ap.parse_args()
    if args.cmd == "lines":
        write_lines(args.format, args.n, args.o)
    else:
        print(syslog_ng_parser(args.format))


if __name__ == "__main__":
    main()
