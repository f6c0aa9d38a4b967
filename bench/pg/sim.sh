#!/usr/bin/env bash
# bench/pg/sim.sh -- the engine on a PostgreSQL cold store under the
# Baileys traffic model, beside PostgreSQL's own limit, in one run against
# one private durable PostgreSQL 15 (bench/pg/server.sh: fsync = on,
# synchronous_commit = on), and writes bench/results/<date>/PG-SIM.md (+ the
# raw outputs). In this order, on the one server:
#   1. the limit: pgbench -n -c 8 -T 10 -f bench/pg/upsert.sql (a
#      transaction shaped like one persist; see its header);
#   2. `authstore sim --cold URI` (in-process engine, its own redis-server,
#      cold.workers connections): persists/s and coalescing (acknowledged
#      writes per persist), no fault;
#   3. the same sim with the server SIGSTOPped (postmaster and every
#      backend, by pid) for OUTAGE_S s from OUTAGE_AT s after the sim's
#      launch: the backlog's peak and its drain rate after SIGCONT (the
#      sim's report: peak to empty);
#   4. pgbench again (drift: the tables grew, checkpoints ran);
#   5. read-through: read_through_bench writes RT_SESSIONS sessions and
#      waits until all are persisted, Redis is flushed, and a new engine
#      reads each once (p50/p99 of a cold read, and of the cached read
#      after it).
# Knobs: SESSIONS (1000), CONCURRENCY (64), DURATION (45), OUTAGE_AT (10),
# OUTAGE_S (30), SEED (7), RT_SESSIONS (2000), WORKERS (cold.workers, 8),
# AUTHSTORE_BUILD_DIR (build-release), AUTHSTORE_BUILD_TYPE (Release);
# AUTHSTORE_BENCH_PREBUILT=DIR uses the binaries in DIR as they are (the
# report names DIR's build type).
# Loopback only; every process it starts is stopped by pid at exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
sessions=${SESSIONS:-1000}
concurrency=${CONCURRENCY:-64}
duration=${DURATION:-45}
outage_at=${OUTAGE_AT:-10}
outage_s=${OUTAGE_S:-30}
seed=${SEED:-7}
rt_sessions=${RT_SESSIONS:-2000}
workers=${WORKERS:-8}
if [ -n "${AUTHSTORE_BENCH_PREBUILT:-}" ]; then
  build_dir=$AUTHSTORE_BENCH_PREBUILT # binaries built already; not rebuilt
else
  build_dir=$(AUTHSTORE_BUILD_DIR=${AUTHSTORE_BUILD_DIR:-build-release} \
    AUTHSTORE_BUILD_TYPE=${AUTHSTORE_BUILD_TYPE:-Release} \
    bash scripts/build.sh --target authstore pg_read_through_bench | tail -n 1)
fi
bin=$build_dir/authstore
rt=$build_dir/bench/pg_read_through_bench
build_type=$(grep -m1 '^CMAKE_BUILD_TYPE' "$build_dir/CMakeCache.txt" | cut -d= -f2)
stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp
mkdir -p "$out"
. bench/pg/server.sh
redis_pid=
cleanup() {
  stop_pid "$redis_pid"
  pg_server_stop
}
trap cleanup EXIT
pg_server_start
raw=$pg_raw
started=$(date -u '+%Y-%m-%d %H:%M')
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
"$bin" migrate --cold "$pg_uri" >"$raw/migrate.txt"

pgb() { # label: pgbench's tps (without initial connection time)
  pgbench -h 127.0.0.1 -p "$pg_port" -U postgres -n -c 8 -T 10 \
    -f bench/pg/upsert.sql postgres >"$raw/$1.txt" 2>&1 \
    || { cat "$raw/$1.txt" >&2; return 1; }
  grep -oP 'tps = \K[0-9.]+(?= \(without initial connection time\))' "$raw/$1.txt"
}
# upsert.sql writes into the store's own tables in schema bench.
"$bin" migrate --cold "$pg_uri" --postgresql.schema bench >>"$raw/migrate.txt"

sim() { # label, extra sim args...
  local label=$1
  shift
  "$bin" sim --cold "$pg_uri" --cold.workers "$workers" --sessions "$sessions" \
    --concurrency "$concurrency" --duration "$duration" --seed "$seed" --quiet \
    --json "$raw/$label.json" "$@" >"$raw/$label.txt" 2>&1
}

echo "bench/pg/sim: pgbench (1)" >&2
pgb1=$(pgb pgbench-1)
echo "bench/pg/sim: sim, no outage" >&2
sim_rc=0
sim sim-no-outage || sim_rc=$?
echo "bench/pg/sim: sim, ${outage_s} s SIGSTOP from ${outage_at} s" >&2
sim sim-outage &
sim_pid=$!
sleep "$outage_at"
pg_signal STOP
sleep "$outage_s"
pg_signal CONT
outage_rc=0
wait "$sim_pid" || outage_rc=$?
echo "bench/pg/sim: pgbench (2)" >&2
pgb2=$(pgb pgbench-2)

echo "bench/pg/sim: read-through" >&2
start_private_redis "$raw"
rt_args=(--redis.url "$redis_url" --cold.uri "$pg_uri" --postgresql.schema rtbench
  --cold.migrate always-up --cold.workers "$workers" --sessions "$rt_sessions")
"$rt" --phase write "${rt_args[@]}" >"$raw/read-through-write.json"
redis-cli -p "$redis_port" flushdb >/dev/null
rt_rc=0
"$rt" --phase read "${rt_args[@]}" >"$raw/read-through.json" || rt_rc=$?
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cp "$raw"/*.txt "$raw"/*.json "$out/" 2>/dev/null || true
for f in pgbench-1.txt pgbench-2.txt sim-no-outage.txt sim-no-outage.json \
  sim-outage.txt sim-outage.json read-through.json read-through-write.json migrate.txt; do
  [ -f "$out/$f" ] && mv "$out/$f" "$out/pg-sim-$f"
done
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
pgver=$("$pg_bin/postgres" --version)
python3 - "$out" "$pgb1" "$pgb2" "$sim_rc" "$outage_rc" "$rt_rc" <<PY >"$out/PG-SIM.md"
import json, sys
out, pgb1, pgb2, sim_rc, outage_rc, rt_rc = sys.argv[1:]
pgb1, pgb2 = float(pgb1), float(pgb2)
limit = min(pgb1, pgb2)
def load(name):
    return json.load(open(f"{out}/pg-sim-{name}.json"))
def sim_rows(label, j):
    c = j["cold_store"]
    persists = c["persists_live"] + c["persists_reconciler"]
    ps = persists / j["duration_s"] if j["duration_s"] else 0
    set_ = j["operations"].get("set", {})
    return (label, persists, ps, c["dirty_writes"], c["coalescing_ratio"],
            c["persist_latency_us"]["live"]["p50"], c["persist_latency_us"]["live"]["p99"],
            set_.get("latency_us", {}).get("p99"), c["backlog_peak"], c["drained"],
            c["drain_seconds"], c["drain_rate"], c["cold_verified"], c["cold_mismatched"],
            j["lost"], j["unexpected"], c["breaker_opened"], c["store_errors_by_kind"])
no = sim_rows("no outage", load("sim-no-outage"))
yes = sim_rows("${outage_s} s SIGSTOP at ${outage_at} s", load("sim-outage"))
rt = load("read-through")
print("# The engine on a PostgreSQL cold store: persists, coalescing, drain, read-through")
print()
print("$started UTC (load average at start $load_start, at end $load_end).")
print("Machine: $(nproc) cores, $cpu, Linux $(uname -r), $(free -g | awk '/Mem:/ {print $2}') GiB; $pgver.")
print("Build: $build_type ($build_dir), tree at $(git rev-parse --short HEAD)$(git diff --quiet || echo ' + uncommitted changes').")
print("Server: one private PostgreSQL (bench/pg/server.sh): fsync = on, synchronous_commit = on, full_page_writes = on, shared_buffers = 128MB; loopback.")
print("Method: \`bash bench/pg/sim.sh\` (see its header): pgbench, the sim without and with an outage, pgbench again, then the read-through bench, all on that one server.")
print("Sim: \`authstore sim --cold URI --cold.workers $workers --sessions $sessions --concurrency $concurrency --duration $duration --seed $seed\` (in-process engine, its own redis-server; the Baileys traffic model of runtime/sim/traffic.hpp). Persists/s = persists (live + reconciler) / the sim's duration_s.")
print()
print(f"PostgreSQL's limit: \`pgbench -n -c 8 -T 10 -f bench/pg/upsert.sql\`: {pgb1:.0f} tps before, {pgb2:.0f} tps after (the lower, {limit:.0f}, is the bar).")
print()
print("| run | persists | persists/s | % of pgbench | acknowledged writes with marks | writes per persist | live persist p50/p99 µs | set p99 µs | backlog peak (sessions/fields) | drained after load | drain rate | cold == hot | lost/unexpected | breaker opened | store errors by kind |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---|---|---|")
for r in (no, yes):
    (label, persists, ps, dirty, coal, p50, p99, setp99, peak, drained, dsec, drate, ver, mis, lost, unexp, opened, kinds) = r
    rate = "-" if not drate else f"{drate['fields_per_s']:.0f} fields/s, {drate['sessions_per_s']:.0f} sessions/s (peak to empty {drate['peak_to_zero_s']:.1f} s)"
    dr = f"yes, {dsec:.1f} s" if drained else "NO"
    print(f"| {label} | {persists} | {ps:.0f} | {100*ps/limit:.0f} % | {dirty} | {coal:.2f} | {p50:.0f} / {p99:.0f} | {setp99} | {peak['sessions']} / {peak['fields']} at {peak['t_s']:.0f} s | {dr} | {rate} | {ver} match, {mis} differ | {lost} / {unexp} | {opened} | {json.dumps(kinds)} |")
print()
print(f"Exit codes: sim {sim_rc}, sim with outage {outage_rc}, read-through bench {rt_rc}.")
print()
c, h = rt["read_through"], rt["cached_read_after"]
print(f"Read-through ({rt['sessions']} sessions of 3 creds fields (~1.3 kB) and {rt['keys_per_session']} keys, all in PostgreSQL, Redis flushed, a new engine; one request at a time): "
      f"get_creds of a cold session p50 {c['p50_us']:.0f} µs, p99 {c['p99_us']:.0f} µs, max {c['max_us']:.0f} µs; "
      f"the cached read after it p50 {h['p50_us']:.1f} µs, p99 {h['p99_us']:.1f} µs. Wrong answers: {rt['wrong']}, failed: {rt['failed']}.")
print()
print("Raw outputs: \`pg-sim-*\` beside this file.")
PY
cat "$out/PG-SIM.md"
