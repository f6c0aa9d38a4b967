#!/usr/bin/env bash
# ctest.sh -- how CTest runs the Node package's tests (tests/CMakeLists.txt,
# label `node`). One argument, the suite:
#   deps   npm ci, only when node_modules is missing or older than
#          package-lock.json (npm ci writes node_modules/.package-lock.json);
#          the registry is needed only then
#   fake   node --test test/*.test.js: against the in-test fake server, no
#          authstore needed
#   real   node --test test/real/*.test.js: against a real `authstore serve`.
#          When AUTHSTORE_TEST_API_URL is set, against that server. Else,
#          when AUTHSTORE_BINARY names the authstore executable (CTest sets
#          it) and redis-server is on PATH, this script starts a private
#          redis-server and `authstore serve --api.port 0` (reading the
#          port from its `authstore: api listening on ADDR:PORT` line),
#          exports AUTHSTORE_TEST_API_URL, AUTHSTORE_SECRET and
#          AUTHSTORE_TEST_REDIS_URL (the failure-path tests start servers
#          of their own from AUTHSTORE_BINARY), runs the tests, and stops
#          both by pid. Without either, each test prints
#          "real-server tests NOT run: ..." and CTest reports it skipped
#   import node --test test/import/*.test.js: `authstore import`/`export`
#          with real Baileys folders (issue #16); needs AUTHSTORE_BINARY and
#          AUTHSTORE_TEST_REDIS_URL, starts its own `authstore serve`
# Without Node >= 20 (Debian 12 ships 18) every suite prints
# "Node client tests NOT run: ..." and CTest reports it skipped, not passed.
set -euo pipefail
cd "$(dirname "$0")/.."
. ../../scripts/lib/servers.sh

major=0
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
fi
if [ "$major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  echo "Node client tests NOT run: they need node >= 20 and npm (found node major ${major}); see scripts/install-deps.sh"
  exit 0
fi

# Starts redis-server and `authstore serve --api.port 0` (both private, on
# free ports), runs test/real against them, stops both by pid.
run_against_private_server() {
  local dir redis_port redis_pid serve_pid line api_port status
  dir=$(mktemp -d /tmp/authstore-node-real.XXXXXX)
  redis_pid=""
  serve_pid=""
  cleanup() {
    for pid in $serve_pid $redis_pid; do
      kill -CONT "$pid" 2>/dev/null || true
      kill "$pid" 2>/dev/null || true
    done
    for pid in $serve_pid $redis_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$dir"
  }
  trap cleanup EXIT
  start_private_redis "$dir"
  export AUTHSTORE_SECRET="node-real-$$-$RANDOM$RANDOM"
  export AUTHSTORE_TEST_REDIS_URL="$redis_url"
  mkfifo "$dir/out"
  "$AUTHSTORE_BINARY" serve --port 0 --redis "$AUTHSTORE_TEST_REDIS_URL" \
    --api.port 0 >"$dir/out" 2>"$dir/serve.log" &
  serve_pid=$!
  exec 3<"$dir/out"
  api_port=""
  while IFS= read -r -t 20 line <&3; do
    case "$line" in
      "authstore: api listening on "*) api_port=${line##*:}; break ;;
    esac
  done
  if [ -z "$api_port" ]; then
    echo "ctest.sh: authstore serve did not print its API port; its log:" >&2
    cat "$dir/serve.log" >&2
    exit 1
  fi
  # Keep draining serve's stdout so it never blocks on a full pipe.
  cat <&3 >/dev/null &
  export AUTHSTORE_TEST_API_URL="http://127.0.0.1:$api_port"
  echo "ctest.sh: private redis-server :$redis_port, authstore serve api :$api_port"
  status=0
  node --test test/real/*.test.js || status=$?
  exit "$status"
}

case "${1:-}" in
  deps)
    if [ ! -f node_modules/.package-lock.json ] \
      || [ package-lock.json -nt node_modules/.package-lock.json ] \
      || [ package.json -nt node_modules/.package-lock.json ]; then
      echo "ctest.sh: npm ci (node_modules missing or stale)"
      npm ci --no-audit --no-fund
    else
      echo "ctest.sh: node_modules is up to date with package-lock.json"
    fi
    ;;
  fake) exec node --test test/*.test.js ;;
  real)
    if [ -n "${AUTHSTORE_TEST_API_URL:-}" ] || [ -z "${AUTHSTORE_BINARY:-}" ] \
      || ! command -v redis-server >/dev/null 2>&1; then
      exec node --test test/real/*.test.js
    fi
    run_against_private_server
    ;;
  import) exec node --test test/import/*.test.js ;;
  *) echo "usage: ctest.sh deps|fake|real|import" >&2; exit 2 ;;
esac
