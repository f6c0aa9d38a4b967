#!/usr/bin/env bash
# takeover.sh -- how long a session is unwritable after its owner is
# SIGKILLed (issue #19): two `authstore serve` nodes over one private
# redis-server, cluster.lease-ms LEASE (default 1000) and margin 100.
# Each round: a write through node A (A owns the session and renews its
# lease), SIGKILL A, then writes through node B in a loop until one is
# acknowledged; the takeover time is SIGKILL -> that acknowledgement.
# Writes are `authstore set --connect` processes, so the time resolution is
# one CLI run (its start-up is measured and printed too). A is restarted
# for the next round. Prints every round and p50/p99 (nearest rank).
#
# Usage: bench/cluster/takeover.sh [ROUNDS]   (build/authstore; default 20)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${AUTHSTORE_BINARY:-build/authstore}
rounds=${1:-20}
lease=${LEASE:-1000}
tmp=$(mktemp -d)
export AUTHSTORE_SECRET=bench-secret-0123456789abcdef
. scripts/lib/servers.sh
pids=()
rpid=
cleanup() {
  for p in "${pids[@]}" $rpid; do kill -9 "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
start_private_redis "$tmp"
rport=$redis_port
rpid=$redis_pid
start_node() { # start_node ID PORT -> pid
  start_serve "$tmp/$1" "$bin" --redis "redis://127.0.0.1:$rport/0" --port "$2" \
    --cluster.enabled true --cluster.node-id "$1" --cluster.lease-ms "$lease" \
    --cluster.lease-margin-ms 100
}
now_ms() { date +%s%3N; }
write() { echo '{"creds":{"n":1}}' | "$bin" set "$2" --connect "127.0.0.1:$1" >/dev/null 2>&1; }
pa=$(free_port); pb=$(free_port)
b=$(start_node nb "$pb"); pids+=("$b")
echo "method: SIGKILL the owner, then authstore set --connect to the other node until acknowledged"
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "config: cluster.lease-ms=$lease cluster.lease-margin-ms=100, rounds=$rounds"
t0=$(now_ms); write "$pb" probe; t1=$(now_ms)
echo "one CLI write (no takeover): $((t1 - t0)) ms"
times=()
for r in $(seq "$rounds"); do
  a=$(start_node na "$pa")
  sid="takeover-$r"
  write "$pa" "$sid" || { echo "round $r: write through A failed"; exit 1; }
  sleep 0.3 # A renews at least once
  kill -9 "$a"; wait "$a" 2>/dev/null || true
  k=$(now_ms)
  until write "$pb" "$sid"; do :; done
  d=$(( $(now_ms) - k ))
  times+=("$d")
  echo "round $r: takeover $d ms"
done
printf '%s\n' "${times[@]}" | sort -n >"$tmp/t"
n=${#times[@]}
p50=$(sed -n "$(( (n * 50 + 99) / 100 ))p" "$tmp/t")
p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$tmp/t")
echo "takeover over $n kills: p50 $p50 ms, p99 $p99 ms, min $(head -1 "$tmp/t"), max $(tail -1 "$tmp/t") (lease $lease ms)"
