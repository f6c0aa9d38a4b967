#!/usr/bin/env bash
# floor.sh -- issue #14's last target ("no slower than useMultiFileAuthState
# on tmpfs at p50 for keys operations") beside the floors a networked store
# cannot go under, all in one run on one machine:
#   1. one Redis round trip: redis-benchmark -c 1 SET and GET p50 (a
#      private redis-server, no persistence);
#   2. one HTTP round trip from Node: hops_probe.mjs's baseline (undici to a
#      do-nothing node:http server in another process), then the same
#      request's time at successive depths of `authstore serve`;
#   3. the hooks themselves: hook_bench.mjs with authstore and multifile.
# ROUNDS times (default 2), interleaved, so drift hits all three alike.
# Usage: bash bench/node/floor.sh [path/to/authstore] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/authstore}
rounds=${2:-2}
. "$here/../../scripts/lib/servers.sh"
dir=$(mktemp -d /tmp/authstore-floor.XXXXXX)
redis_pid=""
trap 'stop_pid "$redis_pid"; rm -rf "$dir"' EXIT
start_private_redis "$dir"
echo "# floor.sh: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r), node $(node --version), $(redis-server --version | grep -o 'v=[0-9.]*'), authstore $bin"
for r in $(seq 1 "$rounds"); do
  echo "## round $r, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "### 1. Redis round trip (redis-benchmark -c 1 -n 20000, µs)"
  redis-benchmark -p "$redis_port" -c 1 -n 20000 -t set,get --csv \
    | tr -d '"' | awk -F, 'NR > 1 { printf "%s p50 %.0f p99 %.0f\n", $1, $5 * 1000, $7 * 1000 }'
  echo "### 2. HTTP round trip and depths (hops_probe.mjs)"
  AUTHSTORE_BENCH_SCRIPT=hops_probe.mjs bash "$here/run.sh" "$bin" | grep '^|'
  echo "### 3. hooks (hook_bench.mjs, authstore and multifile)"
  AUTHSTORE_BENCH_STORES=authstore,multifile AUTHSTORE_BENCH_ITERATIONS=${AUTHSTORE_BENCH_ITERATIONS:-2000} \
    bash "$here/run.sh" "$bin" | grep -E '^\| .*sequential|^\| op|vs multifile'
done
