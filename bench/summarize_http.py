#!/usr/bin/python3
"""Turns the raw outputs of bench/http-bench.sh into http.json and HTTP.md.
Usage: summarize_http.py RAW_DIR OUT_DIR REDIS_VERSION"""
import datetime, json, os, platform, subprocess, sys

raw, out, redis_version = sys.argv[1], sys.argv[2], sys.argv[3]
load = lambda name: json.load(open(os.path.join(raw, name)))
inproc, mm = load("inprocess.json"), load("middleman.json")
h1, h64 = load("http_1.json"), load("http_64.json")

def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()

def row(d, name):
    o = d["operations"][name]
    return {"p50_us": o["latency_us"]["p50"], "p99_us": o["latency_us"]["p99"],
            "ops_s": o.get("throughput_ops_s"), "count": o["count"],
            "errors": o["errors"]}

table = {}
for op in ("set_creds_small", "get_creds_cached"):
    table[op] = {
        "1 in flight": {"in-process": row(inproc, op), "middleman": row(mm, op),
                        "http": row(h1, op)},
        "64 in flight": {"in-process": row(inproc, op + "_w64"),
                         "middleman": row(mm, op + "_w64"),
                         "http": row(h64, op)},
    }
machine = {
    "cpu": cpu_model(), "cores": os.cpu_count(),
    "kernel": platform.release(), "redis": redis_version,
    "load_average_at_end": os.getloadavg(),
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    "revision": subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                               capture_output=True, text=True).stdout.strip(),
}
json.dump({"machine": machine, "results": table,
           "raw": {"in-process": inproc, "middleman": mm, "http_1": h1,
                   "http_64": h64}},
          open(os.path.join(out, "http.json"), "w"), indent=2)

md = ["# HTTP API round trip beside in-process and middleman (bench/http-bench.sh)", "",
      f"Machine: {machine['cpu']}, {machine['cores']} cores, Linux {machine['kernel']}, "
      f"{redis_version}; {machine['date']}, revision {machine['revision']}; load average at "
      f"the end {', '.join('%.1f' % x for x in machine['load_average_at_end'])} (the VM is "
      "shared: compare the columns of one run, not absolute numbers across runs).", "",
      "Method: one private redis-server, a Release build, everything on loopback. "
      "In-process: `latency_bench` (an actor keeps 1, then 64 requests in flight through the "
      "router). Middleman: the same through `authstore serve` with the remote client. HTTP: "
      "`http_bench` (one epoll thread, keep-alive connections, one request in flight per "
      "connection; 1 connection, then 64) against the same `serve`'s `--api.port`. A sample "
      "is one full round trip; the histogram is observe/latency_histogram.hpp (within 1.6 %).",
      "", "| operation | in flight | path | p50 µs | p99 µs | requests/s | errors |",
      "|---|---|---|---:|---:|---:|---:|"]
for op, by in table.items():
    for flight, paths in by.items():
        for path, r in paths.items():
            ops = "%.0f" % r["ops_s"] if r["ops_s"] else "–"
            md.append(f"| {op} | {flight} | {path} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | "
                      f"{ops} | {r['errors']} |")
w64 = table["set_creds_small"]["64 in flight"]
r64 = table["get_creds_cached"]["64 in flight"]
md += ["", "Requests/s with 64 in flight, HTTP vs in-process: writes %.0f%%, cached reads %.0f%%."
       % (100 * w64["http"]["ops_s"] / w64["in-process"]["ops_s"],
          100 * r64["http"]["ops_s"] / r64["in-process"]["ops_s"]), ""]
open(os.path.join(out, "HTTP.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
