#!/usr/bin/env bash
# test.sh -- the README's test command: installs what is missing, builds
# everything, starts a private redis-server on a free loopback port, runs
# every test through CTest, and stops the server by pid.
#
# Which tests run against what is printed at the start and by the tests:
#   unit       no servers
#   redis      real redis-server (shared one from here, or private ones the
#              tests start and pause/kill themselves)
#   mongowire  mockupdb, a scripted MongoDB wire-protocol server (each test
#              starts its own); NOT a real MongoDB
#   postgres   a real PostgreSQL 15: each test process initdb's and starts
#              private clusters (as the postgres user when run as root) on
#              free loopback ports, and stops them by pid
#   real MongoDB: only when AUTHSTORE_TEST_MONGODB_URI is set
#   node       the Node client against an in-test fake HTTP API; its
#              real-server tests only when AUTHSTORE_TEST_API_URL is set
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
build_dir=$(bash scripts/build.sh | tail -n 1)

# A free loopback port, from the kernel.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis_dir=$(mktemp -d /tmp/authstore-test-redis-XXXXXX)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
  --dir "$redis_dir" --logfile "$redis_dir/redis.log" &
redis_pid=$!
cleanup() {
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$redis_dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
export AUTHSTORE_TEST_REDIS_URL="redis://127.0.0.1:$port/0"

echo "test.sh: redis-server pid $redis_pid on 127.0.0.1:$port (shared by redis tests)"
echo "test.sh: MongoDB wire tests run against mockupdb (a scripted wire server) and mini_mongod (a stateful wire"
echo "test.sh: server in Python, used by the outbox end-to-end tests); neither is a real MongoDB"
echo "test.sh: PostgreSQL tests (label postgres) run against a real PostgreSQL 15 ($(/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null || echo 'postgres missing')):"
echo "test.sh: private clusters the tests initdb and start themselves on free loopback ports"
if [ -n "${AUTHSTORE_TEST_MONGODB_URI:-}" ]; then
  echo "test.sh: AUTHSTORE_TEST_MONGODB_URI is set: the real-MongoDB contract suite runs"
else
  echo "test.sh: AUTHSTORE_TEST_MONGODB_URI is not set: the real-MongoDB contract suite does NOT run"
fi

echo "test.sh: node tests (clients/node) run against an in-test fake of the HTTP API, not the real server"
if [ -n "${AUTHSTORE_TEST_API_URL:-}" ]; then
  echo "test.sh: AUTHSTORE_TEST_API_URL is set: the real-server Node tests run against it"
else
  echo "test.sh: AUTHSTORE_TEST_API_URL is not set: the real-server Node tests do NOT run (CTest: skipped)"
fi

# libmongoc (auto-initialized by every authstore process) keeps its counters
# in /dev/shm/mongoc-<pid>; a process killed by a fault test leaves its file,
# and a later process with the same pid then warns on stderr. Remove the
# files of processes that no longer exist, before and after the run.
clean_mongoc_shm() {
  for f in /dev/shm/mongoc-*; do
    [ -e "$f" ] || continue
    kill -0 "${f##*-}" 2>/dev/null || rm -f "$f"
  done
}
clean_mongoc_shm
trap 'cleanup; clean_mongoc_shm' EXIT

cd "$build_dir"
ctest --output-on-failure --timeout 300 -j "${AUTHSTORE_TEST_JOBS:-2}"
