#!/usr/bin/env bash
# one_node_cost.sh -- what issue #19 costs a deployment with cluster.enabled
# off: the same number of Redis calls per operation (there is no extra
# call, see docs/ARCHITECTURE.md "Several nodes"), and inside the write's
# one call the owner check (an HMGET of the absent as:{S}:own). This
# measures that check: the write script of house (before issue #19) and of
# this branch, each called with the same plain one-field patch by
# redis-benchmark against a private redis-server, in one run, alternating.
#
# Usage: bench/cluster/one_node_cost.sh [BASE_REV]   (default: house)
# Prints the method, the machine and the results (usec per call from
# INFO commandstats, and calls/s).
set -euo pipefail
cd "$(dirname "$0")/../.."
base=${1:-house}
n=${N:-200000}
tmp=$(mktemp -d)
. scripts/lib/servers.sh
redis_pid=
trap 'stop_pid "$redis_pid"; rm -rf "$tmp"' EXIT
start_private_redis "$tmp"
port=$redis_port
cli() { redis-cli -p "$port" "$@"; }

# Expands --@include "x.lua" lines from the include directory DIR.
expand() { # expand FILE DIR
  python3 - "$1" "$2" <<'PY'
import re, sys
def expand(path, inc, depth=0):
    out = []
    for line in open(path):
        m = re.match(r'--@include "([^"]+)"\s*$', line)
        out.append(expand(inc + '/' + m.group(1), inc, depth + 1) if m else line)
    return ''.join(out)
sys.stdout.write(expand(sys.argv[1], sys.argv[2]))
PY
}
mkdir -p "$tmp/base/include"
for f in $(git ls-tree --name-only "$base" redis/scripts/include/); do
  git show "$base:$f" >"$tmp/base/include/$(basename "$f")"
done
git show "$base:redis/scripts/apply_patch.lua" >"$tmp/base/apply_patch.lua"
expand "$tmp/base/apply_patch.lua" "$tmp/base/include" >"$tmp/old.lua"
expand redis/scripts/apply_patch.lua redis/scripts/include >"$tmp/new.lua"
old=$(cli SCRIPT LOAD "$(cat "$tmp/old.lua")")
new=$(cli SCRIPT LOAD "$(cat "$tmp/new.lua")")

# apply_patch of one creds field, no condition, no TTL, no cold store, no
# client lease; KEYS as redis/layout.cpp passes them (the base gets 7, the
# new script 8: the owner record).
keys7='as:{b}:m as:{b}:c as:{b}:k as:{b}:o as:dirty as:dirty:fields as:{b}:cl'
argv='"" 0 0 b 0 0 s c:me 1 "" 0'
run() { # run SHA NKEYS KEYS
  cli CONFIG RESETSTAT >/dev/null
  # shellcheck disable=SC2086
  redis-benchmark -p "$port" -n "$n" -c 8 -P 16 -q \
    EVALSHA "$1" "$2" $3 "" 0 0 b 0 0 s c:me 1 "" 0 | tr '\r' '\n' | tail -1
  cli INFO commandstats | grep '^cmdstat_evalsha' | tr -d '\r'
}
echo "method: redis-benchmark -n $n -c 8 -P 16, EVALSHA of apply_patch"
echo "        ($base vs working tree), one creds field, cluster off; $argv"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)," \
  "$(redis-server --version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2 3; do
  echo "round $round base: $(run "$old" 7 "$keys7")"
  echo "round $round new : $(run "$new" 8 "$keys7 as:{b}:own")"
done
