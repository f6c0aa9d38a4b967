#!/usr/bin/env bash
# run.sh -- runs hook_bench.mjs (issue #14's hook-level benchmark) against a
# private redis-server and `authstore serve --api.port 0`, all three stores
# on that one redis-server, and stops both by pid. Usage:
#   bash bench/node/run.sh [path/to/authstore]   (default build/authstore)
# Env: AUTHSTORE_BENCH_ITERATIONS (default 2000); AUTHSTORE_BENCH_SCRIPT (default
# hook_bench.mjs; hops_probe.mjs breaks one request's time down by depth). npm install runs once
# (bench-only devDependencies: baileys, @luoarch/baileys-store-core, ioredis,
# and the repo's clients/node).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/authstore}
cd "$here"
[ -d node_modules ] || npm install --no-audit --no-fund
dir=$(mktemp -d /tmp/authstore-hook-bench.XXXXXX)
redis_pid=""; serve_pid=""
cleanup() {
  for pid in $serve_pid $redis_pid; do kill "$pid" 2>/dev/null || true; done
  for pid in $serve_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
. "$here/../../scripts/lib/servers.sh"
start_private_redis "$dir"
export AUTHSTORE_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n")"
export AUTHSTORE_BENCH_REDIS_URL="$redis_url"
mkfifo "$dir/out"
"$bin" serve --port 0 --redis "$AUTHSTORE_BENCH_REDIS_URL" --api.port 0 >"$dir/out" 2>"$dir/serve.log" &
serve_pid=$!
exec 3<"$dir/out"
api=""
while IFS= read -r -t 20 line <&3; do
  case "$line" in "authstore: api listening on "*) api=${line##*:}; break ;; esac
done
[ -n "$api" ] || { echo "serve did not come up:"; cat "$dir/serve.log"; exit 1; }
cat <&3 >/dev/null &
export AUTHSTORE_BENCH_API_URL="http://127.0.0.1:$api"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg); redis $(redis-server --version | grep -o 'v=[0-9.]*'); authstore $bin"
node ${AUTHSTORE_NODE_FLAGS:-} "${AUTHSTORE_BENCH_SCRIPT:-hook_bench.mjs}"
