#!/usr/bin/env bash
# bench/run.sh -- measures the engine against the physical reference in one
# run, on one machine, against one private redis-server, and writes
# bench/results/<date>/{results.json,RESULTS.md,latency.png}.
#
# Reference (redis-benchmark against the same server): SET -c 1 and -c 10,
# pipelined SET (-P 16 -c 10), the representative write script with EVALSHA
# (-c 1, and -P 16 -c 10). Engine: single-client latencies (latency_bench,
# scheduler tuned and CAF defaults), memory per idle live session actor, and
# `authstore sim` throughput with 10, 100 and 1 000 concurrent sessions.
# Bounded: about 3-5 minutes on 2 cores; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
# The chart needs gnuplot; only the benchmark does.
command -v gnuplot >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gnuplot-nox >/dev/null
build_dir=$(bash scripts/build.sh --target authstore latency_bench | tail -n 1)
stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp
mkdir -p "$out"
raw=$(mktemp -d /tmp/authstore-bench-XXXXXX)

. scripts/lib/servers.sh
redis_pid=
trap 'stop_pid "$redis_pid"' EXIT
start_private_redis "$raw"
port=$redis_port
url=$redis_url
rb() { redis-benchmark -p "$port" --csv "$@" | tail -n 1; }

echo "bench: redis-benchmark reference on 127.0.0.1:$port"
# The representative write of one set: version, two ~300-byte fields, two
# dirty marks, TTL -- what apply_patch does for a 2-field patch.
. bench/reference.sh
reference_args "$(reference_load "$port")"
{
  echo "set_c1,$(rb -t set -n 100000 -c 1)"
  echo "set_c10,$(rb -t set -n 200000 -c 10)"
  echo "set_p16_c10,$(rb -t set -n 1000000 -c 10 -P 16)"
  echo "evalsha_c1,$(rb -n 50000 -c 1 -r 100000 "${evalsha[@]}")"
  echo "evalsha_p16_c10,$(rb -n 500000 -c 10 -P 16 -r 100000 "${evalsha[@]}")"
} > "$raw/redis-benchmark.csv"
redis-cli -p "$port" flushall >/dev/null

echo "bench: engine single-client latency (scheduler tuned, then CAF defaults)"
"$build_dir/bench/latency_bench" --redis "$url" --n 20000 --idle-sessions 100000 \
  > "$raw/latency_tuned.json"
redis-cli -p "$port" flushall >/dev/null
"$build_dir/bench/latency_bench" --redis "$url" --n 20000 --idle-sessions 0 \
  --scheduler.max-threads 4 --scheduler.moderate-sleep-us 50 > "$raw/latency_default.json"

echo "bench: remote round trip through authstore serve (middleman, loopback)"
redis-cli -p "$port" flushall >/dev/null
head -c 32 /dev/urandom | base64 -w0 > "$raw/secret"
chmod 600 "$raw/secret"
"$build_dir/authstore" serve --port 0 --redis "$url" --secret-file "$raw/secret" \
  > "$raw/serve.out" 2> "$raw/serve.err" &
serve_pid=$!
trap 'kill $serve_pid 2>/dev/null || true; kill $redis_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$raw/serve.out" && break; sleep 0.05; done
endpoint=$(sed -n 's/^authstore: listening on //p' "$raw/serve.out")
"$build_dir/bench/latency_bench" --connect "$endpoint" --secret-file "$raw/secret" \
  --n 20000 > "$raw/latency_remote.json"
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true

# Write throughput (read ratio 0) at 10, 100, 1 000 concurrent sessions, and
# one mixed run (read ratio 0.5) at 100.
for run in "10 0" "100 0" "1000 0" "100 0.5"; do
  set -- $run
  echo "bench: sim with $1 concurrent sessions, read ratio $2"
  redis-cli -p "$port" flushall >/dev/null
  "$build_dir/authstore" sim --redis "$url" --sessions "$1" --concurrency "$1" \
    --ops 150000 --read-ratio "$2" --seed 42 --quiet --json "$raw/sim_${1}_$2.json" \
    > "$raw/sim_${1}_$2.txt"
done
redis_version=$(redis-server --version | head -n 1)
/usr/bin/python3 bench/summarize.py "$raw" "$out" "$redis_version"
echo "bench: results in $out"
