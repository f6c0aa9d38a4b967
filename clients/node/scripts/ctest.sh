#!/usr/bin/env bash
# ctest.sh -- how CTest runs the Node package's tests (tests/CMakeLists.txt,
# label `node`). One argument, the suite:
#   deps   npm ci, only when node_modules is missing or older than
#          package-lock.json (npm ci writes node_modules/.package-lock.json);
#          the registry is needed only then
#   fake   node --test test/*.test.js: against the in-test fake server, no
#          authstore needed
#   real   node --test test/real/*.test.js: against a real `authstore serve`
#          at AUTHSTORE_TEST_API_URL; without it each test prints
#          "real-server tests NOT run: ..." and CTest reports it skipped
#   import node --test test/import/*.test.js: `authstore import`/`export`
#          with real Baileys folders (issue #16); needs AUTHSTORE_BINARY and
#          AUTHSTORE_TEST_REDIS_URL, starts its own `authstore serve`
# Without Node >= 20 (Debian 12 ships 18) every suite prints
# "Node client tests NOT run: ..." and CTest reports it skipped, not passed.
set -euo pipefail
cd "$(dirname "$0")/.."

major=0
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
fi
if [ "$major" -lt 20 ] || ! command -v npm >/dev/null 2>&1; then
  echo "Node client tests NOT run: they need node >= 20 and npm (found node major ${major}); see scripts/install-deps.sh"
  exit 0
fi

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
  real) exec node --test test/real/*.test.js ;;
  import) exec node --test test/import/*.test.js ;;
  *) echo "usage: ctest.sh deps|fake|real|import" >&2; exit 2 ;;
esac
