#!/usr/bin/env python3
"""Regression guard for bench/perf.sh results (not a timed unit test).

Usage: compare.py BASELINE.json CANDIDATE.json [--spread SPREAD.json]

Compares the candidate's figures with the baseline's and flags a throughput
drop or a latency / CPU rise beyond the run-to-run spread measured on this
VM. The spread comes from --spread (a perf.sh result taken with --repeat R:
the spread of its R write-only sim runs, relative max-min over mean) or,
without it, from the candidate's own repeated runs; the allowance is that
spread, doubled, but at least the floor below (single-client latencies are
measured once per run, so they get a fixed floor taken from repeated runs
on this VM: bench/results/2026-12-07/PERF.md). Exit status 1 when anything
is flagged, 0 otherwise.

Ratios to the redis-benchmark reference of the same run are compared, not
absolute numbers: the reference moves with the load of the machine.
"""
import json
import sys

# Smallest allowance, relative, by kind (see PERF.md for where they come from).
FLOOR = {"throughput": 0.10, "cpu": 0.10, "latency": 0.25, "tail": 0.50}


def load(path):
    return json.load(open(path))


def rel_spread(values):
    mean = sum(values) / len(values)
    return (max(values) - min(values)) / mean if mean else 0.0


def figures(r):
    """name -> (value, kind, higher_is_better)"""
    ref = r["redis_benchmark"]
    w = r["sim_write_runs"]
    mean = lambda k: sum(x[k] for x in w) / len(w)
    lat = r["latency_us"]
    out = {
        "sim write-only writes/s / evalsha -P16": (mean("writes_s") / ref["evalsha_p16_c10"]["rps"], "throughput", True),
        "sim mixed ops/s / evalsha -P16": (r["sim_mixed"]["ops_s"] / ref["evalsha_p16_c10"]["rps"], "throughput", True),
        "authstore CPU us per write": (mean("authstore_cpu_us_per_op"), "cpu", False),
        "redis CPU us per write": (mean("redis_cpu_us_per_op"), "cpu", False),
        "set p50 / SET -c1 p50": (lat["set_creds_small"]["p50"] / ref["set_c1"]["p50_us"], "latency", False),
        "set p99 / SET -c1 p99": (lat["set_creds_small"]["p99"] / ref["set_c1"]["p99_us"], "tail", False),
        "cached read p99 us": (lat["get_creds_cached"]["p99"], "tail", False),
    }
    return out


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    base, cand = load(args[0]), load(args[1])
    spread_src = load(args[args.index("--spread") + 1]) if "--spread" in args else cand
    runs = spread_src["sim_write_runs"]
    measured = {
        "throughput": rel_spread([x["writes_s"] for x in runs]) if len(runs) > 1 else 0.0,
        "cpu": rel_spread([x["authstore_cpu_us_per_op"] for x in runs]) if len(runs) > 1 else 0.0,
    }
    allow = {k: max(FLOOR[k], 2 * measured.get(k, 0.0)) for k in FLOOR}
    print(f"spread of {len(runs)} write-only runs: throughput {measured['throughput']:.1%}, CPU {measured['cpu']:.1%}; "
          f"allowances: " + ", ".join(f"{k} {v:.0%}" for k, v in allow.items()))
    fb, fc = figures(base), figures(cand)
    flagged = 0
    for name, (b, kind, higher_better) in fb.items():
        c = fc[name][0]
        change = (c - b) / b if b else 0.0
        worse = -change if higher_better else change
        bad = worse > allow[kind]
        flagged += bad
        print(f"{'REGRESSION' if bad else 'ok':10} {name}: {b:.4g} -> {c:.4g} ({change:+.1%})")
    return 1 if flagged else 0


if __name__ == "__main__":
    sys.exit(main())
