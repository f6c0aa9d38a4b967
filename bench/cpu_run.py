#!/usr/bin/env python3
"""Runs one command and records where the CPU went: the command's own
user+system time (getrusage of the child) and the redis-server's (the delta
of utime+stime in /proc/PID/stat over the same interval), plus wall time.

Usage: cpu_run.py --redis-pid PID --out FILE.json -- COMMAND [ARGS...]
The command's stdout/stderr pass through; its exit status is returned.
Divide by the operations the command reports for CPU per operation
(bench/summarize.py and bench/perf.sh do).
"""
import json
import os
import resource
import subprocess
import sys
import time


def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        # Fields after the ")" of comm: state is field 3; utime 14, stime 15.
        rest = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(rest[11]) + int(rest[12])) / ticks


def main():
    args = sys.argv[1:]
    if "--" not in args:
        sys.exit(__doc__)
    split = args.index("--")
    opts, cmd = args[:split], args[split + 1:]
    redis_pid = int(opts[opts.index("--redis-pid") + 1])
    out = opts[opts.index("--out") + 1]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r0 = proc_cpu_s(redis_pid)
    t0 = time.monotonic()
    rc = subprocess.call(cmd)
    wall = time.monotonic() - t0
    r1 = proc_cpu_s(redis_pid)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    json.dump({"command": cmd[0],
               "wall_s": wall,
               "process_user_s": after.ru_utime - before.ru_utime,
               "process_sys_s": after.ru_stime - before.ru_stime,
               "redis_cpu_s": r1 - r0,
               "loadavg_after": [float(x) for x in load]},
              open(out, "w"), indent=2)
    return rc


if __name__ == "__main__":
    sys.exit(main())
