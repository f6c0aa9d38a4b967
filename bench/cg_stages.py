#!/usr/bin/env python3
"""Cost per write by stage, from a callgrind profile of `authstore sim`.

Usage: cg_stages.py CALLGRIND.out WRITES
Instruction counts (load-independent, repeatable on this shared VM; perf
has no hardware counters here) of the inclusive cost of the functions that
make up each stage, divided by the number of operations the sim ran. The
stages overlap where one calls another (e.g. allocation inside the sim's
generator): "allocation" is the self cost of malloc/free/new/delete
wherever they are called; the others are inclusive. The simulator's own
stages (traffic generation, its model) are listed first so that the
engine's cost can be read without them.
"""
import re
import subprocess
import sys

STAGES = [
    ("sim: traffic generation", ["sim_session::next_steady", "sim_session::connect_burst"], "incl"),
    ("sim: model (value hashes, expectations)", ["authstore::model_of", "sim_session::on_write_result"], "incl"),
    ("patch validation", ["authstore::validate_patch"], "incl"),
    ("building the Lua call (layout)", ["redis_layout::apply_patch"], "incl"),
    ("redis connection: RESP, hiredis, reply flatten", ["redis_connection::execute"], "incl"),
    ("  of which formatting the pipeline", ["redis_connection::append"], "incl"),
    ("  of which redisGetReply (read, parse)", ["redisGetReply"], "incl"),
    ("reply handling (parse, cache)", ["redis_layout::parse_apply_patch", "session_cache::apply_write"], "incl"),
    ("metrics (op counters, histograms)", ["op_counters::record", "latency_histogram::record"], "incl"),
    ("logging", ["authstore::log::write", "authstore::log::enabled"], "incl"),
    ("CAF clock (timeouts, delayed sends)", ["thread_safe_actor_clock::run_dispatch_loop", "simple_actor_clock::set_request_timeout", "simple_actor_clock::set_ordinary_timeout", "thread_safe_actor_clock::set_request_timeout", "thread_safe_actor_clock::schedule_message", "simple_actor_clock::schedule_message"], "incl"),
    ("CAF runtime, self (mailboxes, scheduling, dispatch, promises)", ["libcaf_core"], "obj"),
    ("allocation (malloc/free/new/delete, self)", ["malloc", "free", "_int_malloc", "_int_free", "malloc_consolidate", "operator new", "operator delete", "je_", "jemalloc", "tcache", "arena_"], "self"),
]


def table(path, inclusive):
    out = subprocess.run(["callgrind_annotate", "--threshold=100", "--auto=no",
                          f"--inclusive={'yes' if inclusive else 'no'}", path],
                         capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(\S.*)$", line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    return rows


def main():
    path, writes = sys.argv[1], float(sys.argv[2])
    incl, self_ = table(path, True), table(path, False)
    total = next(n for n, name in incl if "PROGRAM TOTALS" in name)
    print(f"total: {total/writes:,.0f} instructions per operation ({total:,} for {writes:.0f})")
    sim = 0
    for label, pats, kind in STAGES:
        rows = incl if kind == "incl" else self_
        if kind == "obj":
            n = sum(c for c, name in self_ if any(f"/{p}" in name for p in pats))
            print(f"{label:48} {n/writes:>10,.0f} /op  {100*n/total:5.1f} %")
            continue
        seen = set()
        n = 0
        for cost, name in rows:
            fn = name.split(" [")[0]
            if kind == "self":
                short = fn.split(":", 1)[-1]
                hit = any(short.startswith(p) or f"::{p}" in short or short == p for p in pats)
            else:
                hit = any(p in fn for p in pats)
            # One entry per function (callgrind_annotate may list a function
            # under several files when inlined): keep the largest.
            key = fn.split(":", 1)[-1]
            if hit and key not in seen:
                seen.add(key)
                n += cost
        if label.startswith("sim:"):
            sim += n
        print(f"{label:48} {n/writes:>10,.0f} /op  {100*n/total:5.1f} %")
    print(f"{'engine (total minus the two sim stages)':48} {(total-sim)/writes:>10,.0f} /op  {100*(total-sim)/total:5.1f} %")


if __name__ == "__main__":
    main()
