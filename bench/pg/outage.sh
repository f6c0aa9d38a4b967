#!/usr/bin/env bash
# bench/pg/outage.sh -- hot write latency of an `authstore serve` node before,
# during and after a 30 s SIGSTOP of its PostgreSQL cold store (issue #15's
# "within 1.2x of healthy"), for one or more authstore binaries alternated
# round by round in ONE run, so that their ratios share the machine's load.
#
#   BINARIES="before=/path/authstore after=build/authstore" ROUNDS=3 \
#     bash bench/pg/outage.sh
#
# One private durable PostgreSQL 15 (bench/pg/server.sh) for the whole run;
# per round and binary: a fresh redis-server, one `serve` node (the tuning
# of tests/e2e/pg_outage_e2etest.cpp: outbox ticks 200 ms, grace 500 ms,
# backoff 200 ms..2 s, breaker open 1..2 s, cold call timeout 1 s,
# outbox max in flight 4), and bench/pg/outage_bench.cpp driving it (4
# writers x 10 sessions, one write in flight each, 4 ms apart). Its hook
# (bench/pg/outage_hook.sh) SIGSTOPs/SIGCONTs the postmaster and every backend and, at each
# phase's start and end, samples the node's and redis-server's CPU time
# (/proc/PID/stat), Redis INFO commandstats and the node's /metrics; the
# summary turns the deltas into per-phase rates (bench/pg/outage_summary.py).
# SLOWLOG=1 adds Redis's slowlog per phase (every command; it slows Redis
# itself, so use it for a diagnostic run, not for the latency rounds).
# Knobs: BINARIES, ROUNDS (3), HEALTHY_S (10), OUTAGE_S (30), SLOWLOG (0),
# BENCH (build/bench/pg_outage_bench), OUT (bench/results/<date>/outage).
# Loopback only; every process it starts is stopped by pid at exit.
# (It used to hang in its EXIT trap on a `runuser` left stopped by the
# SIGSTOP/SIGCONT rounds: bench/pg/server.sh now signals runuser itself, not
# the subshell around it, and continues it until it exits.)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-3}
healthy_s=${HEALTHY_S:-10}
outage_s=${OUTAGE_S:-30}
bench=${BENCH:-build/bench/pg_outage_bench}
binaries=${BINARIES:-current=build/authstore}
out=${OUT:-bench/results/$(date -u +%Y-%m-%d)/outage}
slow_args=()
[ "${SLOWLOG:-0}" = 1 ] && slow_args=(--slowlog)
mkdir -p "$out"
. bench/pg/server.sh
export AUTHSTORE_SECRET=outage-bench-secret-0123456789
redis_pid=
node_pid=
cleanup() {
  stop_pid "$node_pid"
  stop_pid "$redis_pid"
  pg_server_stop
}
trap cleanup EXIT
pg_server_start
first_bin=${binaries%% *}
"${first_bin#*=}" migrate --cold "$pg_uri" >"$out/migrate.txt"
echo "started $(date -u '+%Y-%m-%d %H:%M:%S') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)" >"$out/run.txt"

run_one() { # label binary round
  local label=$1 bin=$2 round=$3
  run_dir=$out/round$round-$label
  mkdir -p "$run_dir"
  start_private_redis "$run_dir"
  local port
  port=$(free_port)
  http_port=$(free_port)
  env AUTHSTORE_COLD_URI="$pg_uri" AUTHSTORE_HTTP_PORT="$http_port" \
    AUTHSTORE_OUTBOX_INTERVAL_MS=200 AUTHSTORE_OUTBOX_GRACE_MS=500 \
    AUTHSTORE_OUTBOX_BACKOFF_BASE_MS=200 AUTHSTORE_OUTBOX_BACKOFF_MAX_MS=2000 \
    AUTHSTORE_COLD_OPEN_BASE_S=1 AUTHSTORE_COLD_OPEN_MAX_S=2 \
    AUTHSTORE_COLD_CALL_TIMEOUT_MS=1000 AUTHSTORE_OUTBOX_MAX_IN_FLIGHT=4 \
    "$bin" serve --port "$port" --redis "redis://127.0.0.1:$redis_port/0" \
    >"$run_dir/node.log" 2>&1 &
  node_pid=$!
  for _ in $(seq 1 100); do
    grep -q "authstore: listening on" "$run_dir/node.log" && break
    sleep 0.1
  done
  export run_dir redis_port node_pid redis_pid http_port pg_raw pg_runner
  echo "$label round $round: load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$bench" --port "$port" --healthy-s "$healthy_s" --outage-s "$outage_s" \
    --redis-url "redis://127.0.0.1:$redis_port/0" "${slow_args[@]}" \
    --hook "bash bench/pg/outage_hook.sh" >"$run_dir/bench.json"
  stop_pid "$node_pid"
  node_pid=
  stop_pid "$redis_pid"
  redis_pid=
}

for round in $(seq 1 "$rounds"); do
  for entry in $binaries; do
    run_one "${entry%%=*}" "${entry#*=}" "$round"
  done
done
echo "ended $(date -u '+%Y-%m-%d %H:%M:%S') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/run.txt"
python3 bench/pg/outage_summary.py "$out" | tee "$out/summary.md"
