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

port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$raw" --logfile "$raw/redis.log" &
redis_pid=$!
serve_pid=
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  kill "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
url="redis://127.0.0.1:$port/0"

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
