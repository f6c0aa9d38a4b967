#!/usr/bin/env bash
# bench/http-bench.sh -- the HTTP API's round trip beside the in-process and
# the middleman figures, in one run, on one machine, against one private
# redis-server, with a Release build; writes
# bench/results/<date>/{http.json,HTTP.md}.
#
#   in-process  latency_bench: one request in flight, then 64 (--window 64)
#   middleman   latency_bench --connect: the same through `authstore serve`
#   HTTP        http_bench against the same serve's --api.port: 1 keep-alive
#               connection, then 64 (one request in flight each)
# Operations: a small creds write (acknowledged by Redis) and a cached creds
# read. Bounded: about 2-4 minutes on 2 cores; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >/dev/null
build_dir=$(AUTHSTORE_BUILD_DIR=${AUTHSTORE_BUILD_DIR:-build-release} \
  AUTHSTORE_BUILD_TYPE=Release \
  bash scripts/build.sh --target authstore latency_bench http_bench | tail -n 1)
stamp=$(date -u +%Y-%m-%d)
out=bench/results/$stamp
mkdir -p "$out"
raw=$(mktemp -d /tmp/authstore-http-bench-XXXXXX)
n=${HTTP_BENCH_N:-20000}

. scripts/lib/servers.sh
redis_pid=
serve_pid=
cleanup() {
  stop_pid "$serve_pid"
  stop_pid "$redis_pid"
}
trap cleanup EXIT
start_private_redis "$raw"
port=$redis_port
url=$redis_url

echo "bench: in-process (1 and 64 in flight)"
"$build_dir/bench/latency_bench" --redis "$url" --n "$n" --idle-sessions 0 \
  --window 64 > "$raw/inprocess.json"

redis-cli -p "$port" flushall >/dev/null
head -c 32 /dev/urandom | base64 -w0 > "$raw/secret"
chmod 600 "$raw/secret"
"$build_dir/authstore" serve --port 0 --api.port 0 --redis "$url" \
  --secret-file "$raw/secret" > "$raw/serve.out" 2> "$raw/serve.err" &
serve_pid=$!
for _ in $(seq 1 100); do grep -q "api listening on" "$raw/serve.out" && break; sleep 0.05; done
endpoint=$(sed -n 's/^authstore: listening on //p' "$raw/serve.out")
api=$(sed -n 's/^authstore: api listening on //p' "$raw/serve.out")

echo "bench: middleman through authstore serve (1 and 64 in flight)"
"$build_dir/bench/latency_bench" --connect "$endpoint" --secret-file "$raw/secret" \
  --n "$n" --window 64 > "$raw/middleman.json"

echo "bench: HTTP API of the same serve (1 connection, then 64)"
AUTHSTORE_SECRET=$(cat "$raw/secret") "$build_dir/bench/http_bench" \
  --connect "$api" --clients 1 --n "$n" > "$raw/http_1.json"
AUTHSTORE_SECRET=$(cat "$raw/secret") "$build_dir/bench/http_bench" \
  --connect "$api" --clients 64 --n $(( n / 20 )) > "$raw/http_64.json"
kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; serve_pid=

/usr/bin/python3 bench/summarize_http.py "$raw" "$out" "$(redis-server --version | head -n 1)"
echo "bench: results in $out"
