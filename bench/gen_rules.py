#!/usr/bin/env python3
"""Writes N alert rules for the alerting benchmark: a mix of word, phrase,
field and range queries, each grouped by host with a count condition.

    bench/gen_rules.py N > rules.toml
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
for i in range(n):
    kind = i % 4
    if kind == 0:
        query = f"word{i}"
    elif kind == 1:
        query = f'"failed login {i}"'
    elif kind == 2:
        query = f"app:service{i}"
    elif i % 40 == 3:
        # A few rules have no term at all and run on every batch.
        query = "severity:[0 TO 2]"
    else:
        query = f"severity:[0 TO 3] AND host:host{i}"
    print(f"""[alerts.rule{i}]
type = "log"
query = '{query}'
group_by = ["host"]
window = "5m"
condition = "count > {10 + i % 90}"
""")
