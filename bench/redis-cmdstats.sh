#!/bin/bash
# bench/redis-cmdstats.sh [BUILD_DIR] -- Redis's side of a write (issue #18):
# INFO commandstats per write (calls, usec per call inside Redis, nested
# redis.call()s counted apart) and bytes in per write, for perf.sh's
# reference script under redis-benchmark and for the sim 100 x 100
# write-only, on one private redis-server in one run.
set -e
B=${1:-build}
cd "$(dirname "$0")/.."; . scripts/lib/servers.sh
d=$(mktemp -d); start_private_redis "$d"; p=$redis_port
trap 'stop_pid $redis_pid; rm -rf $d' EXIT
. bench/reference.sh
reference_args "$(reference_load $p)"
stats() { # label writes
  echo "== $1 ($2 writes)"
  redis-cli -p $p info stats | tr -d '\r' | awk -F: -v w=$2 '/total_net_input_bytes/ {printf "bytes in per write: %.0f\n", $2/w}'
  redis-cli -p $p info commandstats | tr -d '\r' | grep cmdstat | sed 's/cmdstat_//' | awk -F'[:,=]' -v w=$2 '{printf "  %-12s calls/write %5.2f  usec/call %6.2f  usec/write %6.2f\n", $1, $3/w, $7, $5/w}'
  redis-cli -p $p info cpu | tr -d '\r' | grep used_cpu
}
redis-cli -p $p config resetstat >/dev/null
redis-benchmark -p $p -n 300000 -c 10 -P 16 -r 1000 -q "${evalsha[@]}" | tr "\r" "\n" | tail -1
stats reference 300000
redis-cli -p $p flushall >/dev/null; redis-cli -p $p config resetstat >/dev/null
$B/authstore sim --redis "$redis_url" --sessions 100 --concurrency 100 --ops 150000 --read-ratio 0 --seed 42 --quiet --json $d/r.json > $d/out.txt 2>&1 \
  || { echo "redis-cmdstats: the sim failed:" >&2; cat $d/out.txt >&2; exit 1; }
# The writes the sim made (its connect bursts included), from its report.
w=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['operations']['set']['count'])" $d/r.json)
grep -E "throughput" $d/out.txt | head -2
stats "sim 100x100 write-only" $w
