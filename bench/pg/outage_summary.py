#!/usr/bin/env python3
"""bench/pg/outage_summary.py DIR -- the tables of bench/pg/outage.sh's runs.

Per run (DIR/round<N>-<label>/): the bench's per-phase write latency
(bench.json) and, from the hook's samples at each phase's start and end,
per-second rates: CPU of the node and of redis-server (ms of CPU per s),
Redis commands (INFO commandstats: calls/s and usec per call), and the
node's counters (/metrics: outbox rounds by path and result, Redis round
trips, breaker-refused calls, log lines suppressed). Prints Markdown."""
import json
import os
import re
import statistics
import sys

PHASES = ["healthy_before", "outage", "healthy_after"]
TICK = os.sysconf("SC_CLK_TCK")


def cpu(path):
    d = {}
    for line in open(path):
        k, *v = line.split()
        d[k] = [float(x) for x in v]
    return d


def cmdstats(path):
    d = {}
    for line in open(path):
        m = re.match(r"cmdstat_(\w+):calls=(\d+),usec=(\d+)", line)
        if m:
            d[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return d


def metrics(path):
    d = {}
    if not os.path.exists(path):
        return d
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        name, _, value = line.rpartition(" ")
        try:
            d[name] = float(value)
        except ValueError:
            pass
    return d


def msum(m, prefix, must=""):
    return sum(v for k, v in m.items() if k.startswith(prefix) and must in k)


SERIES = {
    "live rounds ok": ("authstore_outbox_persists_total", 'path="live"'),
    "live rounds failed": ("authstore_outbox_persist_failures_total", 'path="live"'),
    "live clean reads": ("authstore_outbox_clean_reads_total", 'path="live"'),
    "reconciler rounds ok": ("authstore_outbox_persists_total", 'path="reconciler"'),
    "reconciler rounds failed": ("authstore_outbox_persist_failures_total", 'path="reconciler"'),
    "cold calls refused (open)": ("authstore_cold_calls_total", 'result="cold_unavailable"'),
    "redis round trips": ("authstore_redis_round_trips_total", ""),
    "redis commands": ("authstore_redis_commands_total", ""),
    "log lines suppressed": ("authstore_log_suppressed_total", ""),
}


def phase_rates(run, p):
    a, b = f"{run}/{p}_start", f"{run}/{p}_end"
    ca, cb = cpu(a + ".cpu"), cpu(b + ".cpu")
    secs = cb["t"][0] - ca["t"][0]
    r = {"secs": secs, "load": (ca["load"][0] + cb["load"][0]) / 2}
    for who in ("node", "redis"):
        r[f"{who}_cpu_ms_per_s"] = (sum(cb[who]) - sum(ca[who])) / TICK * 1e3 / secs
    sa, sb = cmdstats(a + ".cmdstats"), cmdstats(b + ".cmdstats")
    r["redis_cmds"] = {}
    for cmd, (calls, usec) in sb.items():
        c0, u0 = sa.get(cmd, (0, 0))
        if calls - c0 > 0:
            r["redis_cmds"][cmd] = ((calls - c0) / secs, (usec - u0) / (calls - c0),
                                    (usec - u0) / 1e3 / secs)
    ma, mb = metrics(a + ".metrics"), metrics(b + ".metrics")
    for label, (prefix, must) in SERIES.items():
        r[label] = (msum(mb, prefix, must) - msum(ma, prefix, must)) / secs
    return r


def main(out):
    runs = sorted(d for d in os.listdir(out) if d.startswith("round"))
    rows, by_label = [], {}
    print(open(f"{out}/run.txt").read().strip().replace("\n", "  \n"))
    print()
    print("| run | phase | writes/s | p50 ms | p99 ms | p99.9 ms | max ms | failed | outage p99 / healthy p99 | load | node CPU ms/s | redis CPU ms/s | EVALSHA/s | µs/EVALSHA |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    detail = []
    for run in runs:
        path = f"{out}/{run}"
        try:
            j = json.load(open(f"{path}/bench.json"))
        except (OSError, ValueError):
            print(f"| {run} | (no result) |")
            continue
        label = run.split("-", 1)[1]
        ph = j["phases"]
        healthy = max(ph["healthy_before"]["p99_ms"], ph["healthy_after"]["p99_ms"])
        ratio = ph["outage"]["p99_ms"] / healthy if healthy else float("nan")
        by_label.setdefault(label, []).append(ratio)
        for p in PHASES:
            x = ph[p]
            r = phase_rates(path, p)
            ev = r["redis_cmds"].get("evalsha", (0, 0, 0))
            rat = f"**{ratio:.2f}**" if p == "outage" else ""
            print(f"| {run} | {p} | {x['writes_per_s']:.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | {x['p999_ms']:.2f} | {x['max_ms']:.1f} | {x['failed']} | {rat} | {r['load']:.1f} | {r['node_cpu_ms_per_s']:.0f} | {r['redis_cpu_ms_per_s']:.0f} | {ev[0]:.0f} | {ev[1]:.1f} |")
            detail.append((run, p, r, j.get("redis_by_script", {}).get(p, {})))
    print()
    print("Outage p99 / healthy p99 (healthy: the slower of before and after), by binary:")
    print()
    for label, xs in by_label.items():
        print(f"- {label}: " + ", ".join(f"{x:.2f}" for x in xs)
              + f" (median {statistics.median(xs):.2f})")
    print()
    print("Node counters per second, by phase:")
    print()
    print("| run | phase | " + " | ".join(SERIES) + " |")
    print("|---|---|" + "---:|" * len(SERIES))
    for run, p, r, _ in detail:
        print(f"| {run} | {p} | " + " | ".join(f"{r[k]:.1f}" for k in SERIES) + " |")
    if any(s for *_, s in detail):
        print()
        print("Redis time by script (slowlog, every command), per second:")
        print()
        print("| run | phase | script | calls/s | µs/call | max µs | Redis ms/s |")
        print("|---|---|---|---:|---:|---:|---:|")
        for run, p, _, s in detail:
            for name, a in sorted(s.items(), key=lambda kv: -kv[1]["redis_ms_per_s"]):
                print(f"| {run} | {p} | {name} | {a['calls_per_s']:.1f} | {a['usec_per_call']:.1f} | {a['max_usec']} | {a['redis_ms_per_s']:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
