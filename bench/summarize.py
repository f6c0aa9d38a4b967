#!/usr/bin/python3
"""Turns the raw outputs of bench/run.sh into results.json, RESULTS.md and
latency.png (gnuplot). Usage: summarize.py RAW_DIR OUT_DIR REDIS_VERSION"""
import csv, datetime, json, os, platform, subprocess, sys

raw, out, redis_version = sys.argv[1], sys.argv[2], sys.argv[3]

# TypeScript peer (@baileys-store/core, Node), measured on this kind of
# machine (issue #7).
PEER = {
    "creds write": (400, 2000),
    "cached session read": (5500, 13000),
    "write of 10 pre-keys": (6900, 15000),
}
PEER_THROUGHPUT = "10 concurrent sessions: 4 300 creds writes/s, 127 key writes/s; 5 concurrent writers to one session lost 4 of 5 updates"

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

ref = {}
with open(os.path.join(raw, "redis-benchmark.csv")) as f:
    for row in csv.reader(f):
        label, test, rps, avg, mn, p50, p95, p99, mx = row
        ref[label] = {"rps": float(rps), "p50_us": float(p50) * 1000,
                      "p99_us": float(p99) * 1000, "max_us": float(mx) * 1000}

lat = json.load(open(os.path.join(raw, "latency_tuned.json")))
lat_default = json.load(open(os.path.join(raw, "latency_default.json")))
lat_remote = json.load(open(os.path.join(raw, "latency_remote.json")))
sims = {}
for name in sorted(os.listdir(raw)):
    if name.startswith("sim_") and name.endswith(".json"):
        sims[name[4:-5]] = json.load(open(os.path.join(raw, name)))

def op(d, name):
    return d["operations"][name]["latency_us"]

set_c1 = ref["set_c1"]
w = op(lat, "set_creds_small")
cached = op(lat, "get_creds_cached")
w100 = sims["100_0"]
w100_writes = w100["operations"]["set"]["count"] / w100["duration_s"]
targets = [
    ("write p50 <= 3x redis-benchmark -c 1 SET p50", w["p50"], 3 * set_c1["p50_us"]),
    ("write p99 <= 5x redis-benchmark -c 1 SET p99", w["p99"], 5 * set_c1["p99_us"]),
    ("cached read p99 <= 50 us", cached["p99"], 50.0),
    ("write throughput, 100 sessions >= 50% of EVALSHA -P 16 -c 10",
     w100_writes, 0.5 * ref["evalsha_p16_c10"]["rps"]),
    ("RSS per idle live session actor <= 2 KiB", lat["bytes_per_idle_session"], 2048.0),
]
def met(name, value, bound):
    return value >= bound if "throughput" in name else value <= bound

machine = {
    "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"),
    "kernel": platform.release(), "cpu": cpu_model(),
    "cores": os.cpu_count(), "redis": redis_version,
}
results = {"machine": machine, "redis_benchmark": ref, "latency_tuned": lat,
           "latency_remote": lat_remote,
           "latency_caf_defaults": lat_default, "sim": sims,
           "targets": [{"target": t, "value": v, "bound": b, "met": met(t, v, b)}
                       for t, v, b in targets]}
json.dump(results, open(os.path.join(out, "results.json"), "w"), indent=2)

def f(x):
    return f"{x:,.1f}" if x < 1000 else f"{x:,.0f}"

md = []
md.append(f"# authstore benchmark, {machine['date']}\n")
md.append(f"Machine: {machine['cores']} cores, {machine['cpu']}, Linux {machine['kernel']}; {redis_version}; "
          "everything on loopback, one private redis-server without persistence. "
          "Method: `bash bench/run.sh` (see its header); latencies from a log-linear histogram (within 1.6 %).\n")
md.append("## Physical reference: redis-benchmark against the same server\n")
md.append("| command | ops/s | p50 us | p99 us |\n|---|---:|---:|---:|")
for k, v in ref.items():
    md.append(f"| {k} | {f(v['rps'])} | {f(v['p50_us'])} | {f(v['p99_us'])} |")
md.append("\n`evalsha` is the representative write script (HINCRBY version, HSET of two 300-byte fields, two dirty marks, PEXPIREAT).\n")
md.append("## Engine, one request in flight (in-process)\n")
md.append("| operation | p50 us | p99 us | p99.9 us | max us | TS peer p50 / p99 us |\n|---|---:|---:|---:|---:|---:|")
peer_for = {"set_creds_small": "creds write", "get_creds_cached": "cached session read",
            "set_prekeys_10": "write of 10 pre-keys"}
for name, o in lat["operations"].items():
    l = o["latency_us"]
    p = PEER.get(peer_for.get(name, ""), None)
    ps = f"{f(p[0])} / {f(p[1])}" if p else "–"
    md.append(f"| {name} | {f(l['p50'])} | {f(l['p99'])} | {f(l['p999'])} | {f(l['max'])} | {ps} |")
md.append("\n`_w100`: 100 requests in flight (latency under load; ops/s below). `_blocking`: the blocking convenience API (a scoped_actor per call).\n")
md.append("| operation | in-process ops/s | remote ops/s |\n|---|---:|---:|")
for name in ("set_creds_small_w100", "get_creds_cached_w100"):
    md.append(f"| {name} | {f(lat['operations'][name].get('throughput_ops_s', 0))} | {f(lat_remote['operations'][name].get('throughput_ops_s', 0))} |")
md.append("\n## Remote (authstore serve on loopback, middleman, shared-secret session), same phases\n")
md.append("| operation | remote p50 us | remote p99 us | in-process p50 us | in-process p99 us |\n|---|---:|---:|---:|---:|")
for name, o in lat_remote["operations"].items():
    l = o["latency_us"]
    li = lat["operations"].get(name, {}).get("latency_us", {"p50": 0, "p99": 0})
    md.append(f"| {name} | {f(l['p50'])} | {f(l['p99'])} | {f(li['p50'])} | {f(li['p99'])} |")
md.append(f"\nScheduler before/after (set_creds_small p50 / p99 us): CAF defaults (4 threads, 50 us idle poll) "
          f"{f(op(lat_default, 'set_creds_small')['p50'])} / {f(op(lat_default, 'set_creds_small')['p99'])}; "
          f"tuned (2 threads, 0 us) {f(w['p50'])} / {f(w['p99'])}. "
          f"Cached read p99: defaults {f(op(lat_default, 'get_creds_cached')['p99'])}, tuned {f(cached['p99'])}.\n")
md.append(f"Memory: {lat['idle_sessions']:,} idle live session actors grew RSS by "
          f"{lat['idle_rss_growth_bytes'] / 2**20:.1f} MiB = {lat['bytes_per_idle_session']:.0f} bytes each.\n")
md.append("## Throughput: `authstore sim` (seed 42, 150 000 steady ops, connect bursts included)\n")
md.append("| sessions = concurrency | read ratio | ops/s | writes/s | set p50 us | set p99 us | commands per Redis round trip | lost |\n|---:|---:|---:|---:|---:|---:|---:|---:|")
for key, s in sorted(sims.items(), key=lambda kv: (float(kv[0].split('_')[1]), int(kv[0].split('_')[0]))):
    c, rr = key.split("_")
    st = s["operations"]["set"]
    cpr = s["redis"]["commands"] / max(1, s["redis"]["round_trips"])
    md.append(f"| {c} | {rr} | {f(s['throughput_ops_s'])} | {f(st['count'] / s['duration_s'])} | "
              f"{f(st['latency_us']['p50'])} | {f(st['latency_us']['p99'])} | {cpr:.1f} | {s['lost']} |")
md.append(f"\nThe simulator's writes are Baileys-shaped (session records of 1-3 KB, pre-key batches), heavier than the 2x300-byte reference script. TS peer: {PEER_THROUGHPUT}.\n")
md.append("## Targets (issue #7)\n")
md.append("| target | measured | bound | met |\n|---|---:|---:|---|")
for t, v, b in targets:
    md.append(f"| {t} | {f(v)} | {f(b)} | {'yes' if met(t, v, b) else '**no**'} |")
md.append("\n![latency and throughput against concurrency](latency.png)\n")
open(os.path.join(out, "RESULTS.md"), "w").write("\n".join(md) + "\n")

# Chart: set latency percentiles and throughput against concurrency.
rows = []
for key, s in sims.items():
    c, rr = key.split("_")
    if rr == "0":
        l = s["operations"]["set"]["latency_us"]
        rows.append((int(c), l["p50"], l["p99"], l["p999"], s["throughput_ops_s"]))
rows.sort()
dat = os.path.join(raw, "chart.dat")
with open(dat, "w") as fh:
    for r in rows:
        fh.write(" ".join(str(x) for x in r) + "\n")
gp = f"""set terminal png size 900,500
set output '{os.path.join(out, "latency.png")}'
set logscale x; set logscale y; set xlabel 'concurrent sessions'
set ylabel 'set latency (us)'; set y2label 'ops/s'; set y2tics; set ytics nomirror
set key top left; set grid
plot '{dat}' u 1:2 w lp t 'set p50', '' u 1:3 w lp t 'set p99', '' u 1:4 w lp t 'set p99.9', '' u 1:5 axes x1y2 w lp t 'throughput (ops/s)'
"""
subprocess.run(["gnuplot"], input=gp.encode(), check=False)
print(open(os.path.join(out, "RESULTS.md")).read())
