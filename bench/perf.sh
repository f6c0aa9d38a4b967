#!/usr/bin/env bash
# bench/perf.sh -- the issue #18 figures in one run, against one private
# redis-server, on this machine: the physical reference (redis-benchmark
# SET -c 1; the representative session-write script with EVALSHA -P 16
# -c 10 -r 1000), the engine's single-client latencies (latency_bench
# --n 5000: 1 session, 1 request in flight, plus the caf_ping baseline), and
# `authstore sim` at 100 sessions x 100 concurrent (write-only, and 50 %
# reads), each run under bench/cpu_run.py so the authstore process's and the
# redis-server's CPU per operation are recorded separately.
#
# Usage: bench/perf.sh [--repeat R] [--label NAME] [--build-dir DIR]
#   --repeat R: the sim write-only run R times (default 1): the run-to-run
#   spread that bench/compare.py needs. Writes
#   bench/results/<date>/perf-<label>.json and prints a summary.
# The ratios that the targets are about are computed inside one run only.
set -euo pipefail
cd "$(dirname "$0")/.."
repeat=1
label=run
build_dir=${AUTHSTORE_BUILD_DIR:-build}
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift 2 ;;
    --label) label=$2; shift 2 ;;
    --build-dir) build_dir=$2; shift 2 ;;
    *) echo "perf.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin=$build_dir/authstore
lat=$build_dir/bench/latency_bench
[ -x "$bin" ] && [ -x "$lat" ] || { echo "perf.sh: build authstore and latency_bench in $build_dir first" >&2; exit 2; }
stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp
mkdir -p "$out"
raw=$(mktemp -d /tmp/authstore-perf-XXXXXX)
. scripts/lib/servers.sh
redis_pid=
trap 'stop_pid "$redis_pid"' EXIT
start_private_redis "$raw"
port=$redis_port
url=$redis_url
rb() { redis-benchmark -p "$port" --csv "$@" | tail -n 1; }
uptime > "$raw/load_start"

# The representative write of one set (as bench/run.sh): version, two
# ~300-byte fields, two dirty marks, TTL.
. bench/reference.sh
reference_args "$(reference_load "$port")"
echo "perf: redis-benchmark reference" >&2
{
  echo "set_c1,$(rb -t set -n 50000 -c 1)"
  echo "evalsha_p16_c10,$(rb -n 300000 -c 10 -P 16 -r 1000 "${evalsha[@]}")"
} > "$raw/redis-benchmark.csv"
redis-cli -p "$port" flushall >/dev/null

echo "perf: latency_bench (1 session, 1 in flight, 5000 each)" >&2
"$lat" --redis "$url" --n 5000 --idle-sessions 0 > "$raw/latency.json"
redis-cli -p "$port" flushall >/dev/null

run_sim() { # name read_ratio
  redis-cli -p "$port" flushall >/dev/null
  /usr/bin/python3 bench/cpu_run.py --redis-pid "$redis_pid" --out "$raw/cpu_$1.json" -- \
    "$bin" sim --redis "$url" --sessions 100 --concurrency 100 --ops 150000 \
    --read-ratio "$2" --seed 42 --quiet --json "$raw/sim_$1.json" > "$raw/sim_$1.txt"
}
for i in $(seq 1 "$repeat"); do
  echo "perf: sim 100 x 100, write-only, run $i of $repeat" >&2
  run_sim "w_$i" 0
done
echo "perf: sim 100 x 100, read ratio 0.5" >&2
run_sim mixed 0.5
uptime > "$raw/load_end"
/usr/bin/python3 - "$raw" "$out/perf-$label.json" "$repeat" <<'PY'
import csv, json, os, sys, platform
raw, dest, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
ref = {}
for row in csv.reader(open(os.path.join(raw, "redis-benchmark.csv"))):
    # name,"test","rps","avg","min","p50","p95","p99","max"
    ref[row[0]] = {"rps": float(row[2]), "p50_us": 1000 * float(row[5]),
                   "p99_us": 1000 * float(row[7])}
lat = json.load(open(os.path.join(raw, "latency.json")))["operations"]
def sim(name):
    d = json.load(open(os.path.join(raw, f"sim_{name}.json")))
    c = json.load(open(os.path.join(raw, f"cpu_{name}.json")))
    sets = d["operations"]["set"]["count"]
    ops = sum(v["count"] for v in d["operations"].values())
    return {"writes_s": sets / d["duration_s"], "ops_s": d["throughput_ops_s"],
            "set_p50_us": d["operations"]["set"]["latency_us"]["p50"],
            "set_p99_us": d["operations"]["set"]["latency_us"]["p99"],
            "lost": d["lost"], "errors": sum(d["errors_by_code"].values()) if isinstance(d["errors_by_code"], dict) else 0,
            "commands_per_round_trip": d["redis"]["commands"] / max(1, d["redis"]["round_trips"]),
            "rss_growth_mib": d["rss_growth_bytes"] / 2**20,
            "authstore_cpu_us_per_op": 1e6 * (c["process_user_s"] + c["process_sys_s"]) / ops,
            "redis_cpu_us_per_op": 1e6 * c["redis_cpu_s"] / ops,
            "cores_busy": (c["process_user_s"] + c["process_sys_s"] + c["redis_cpu_s"]) / c["wall_s"],
            "ops": ops}
runs = [sim(f"w_{i}") for i in range(1, repeat + 1)]
w = runs[0]
def p(name, q):  # phases an older latency_bench lacks are NaN
    return lat[name]["latency_us"][q] if name in lat else float("nan")
res = {
  "machine": {"uname": " ".join(platform.uname()[:3]), "cores": os.cpu_count(),
              "load_start": open(os.path.join(raw, "load_start")).read().strip(),
              "load_end": open(os.path.join(raw, "load_end")).read().strip()},
  "redis_benchmark": ref,
  "latency_us": {k: v["latency_us"] for k, v in lat.items()},
  "sim_write_runs": runs,
  "sim_mixed": sim("mixed"),
  "targets": {
    "writes_vs_evalsha_p16": w["writes_s"] / ref["evalsha_p16_c10"]["rps"],
    "set_p50_vs_set_c1": p("set_creds_small", "p50") / ref["set_c1"]["p50_us"],
    "set_p99_vs_set_c1": p("set_creds_small", "p99") / ref["set_c1"]["p99_us"],
    "cached_read_p99_us": p("get_creds_cached", "p99"),
    "cached_read_p999_us": p("get_creds_cached", "p999"),
    "cached_read_nt_p99_us": p("get_creds_cached_nt", "p99"),
    "caf_ping_p99_us": p("caf_ping", "p99"),
    "caf_ping_p999_us": p("caf_ping", "p999"),
  },
}
json.dump(res, open(dest, "w"), indent=2)
t = res["targets"]
print(f"load: {res['machine']['load_start']}  ->  {res['machine']['load_end']}")
print(f"evalsha -P16 -c10: {ref['evalsha_p16_c10']['rps']:.0f}/s; SET -c1 p50/p99 {ref['set_c1']['p50_us']:.0f}/{ref['set_c1']['p99_us']:.0f} us")
for i, r in enumerate(runs):
    print(f"sim write-only run {i+1}: {r['writes_s']:.0f} writes/s ({r['writes_s']/ref['evalsha_p16_c10']['rps']:.1%} of evalsha), "
          f"authstore {r['authstore_cpu_us_per_op']:.1f} us CPU/op, redis {r['redis_cpu_us_per_op']:.1f} us/op, cores busy {r['cores_busy']:.2f}, "
          f"cmds/rt {r['commands_per_round_trip']:.1f}, lost {r['lost']}")
m = res["sim_mixed"]
print(f"sim mixed: {m['ops_s']:.0f} ops/s, {m['writes_s']:.0f} writes/s, authstore {m['authstore_cpu_us_per_op']:.1f} us/op")
print(f"set p50/p99: {p('set_creds_small','p50'):.1f}/{p('set_creds_small','p99'):.1f} us = {t['set_p50_vs_set_c1']:.2f}x / {t['set_p99_vs_set_c1']:.2f}x SET -c1")
print(f"cached read p50/p99/p99.9: {p('get_creds_cached','p50'):.1f}/{t['cached_read_p99_us']:.1f}/{t['cached_read_p999_us']:.1f} us; "
      f"without caller timeout p99 {t['cached_read_nt_p99_us']:.1f}; caf_ping p99/p99.9 {t['caf_ping_p99_us']:.1f}/{t['caf_ping_p999_us']:.1f} us")
print(f"written: {dest}")
PY
