#!/usr/bin/env bash
# forward.sh -- what forwarding between nodes costs (issue #19): starts one
# private redis-server, three `authstore serve` nodes with cluster.enabled
# (na, nb, nc) and one node with cluster.enabled off (ns, same Redis, its
# own sessions), then runs build/bench/forward_bench (method in its file
# comment): write/read latency through the owner, through a non-owner (one
# forward) and through the single node in one run, and 1-node vs 3-node
# throughput. Everything shares this machine's cores: say so with the
# numbers.
#
# Usage: bench/cluster/forward.sh [forward_bench flags, e.g. --rounds 2000]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${AUTHSTORE_BINARY:-build/authstore}
bench=${FORWARD_BENCH:-build/bench/forward_bench}
tmp=$(mktemp -d)
export AUTHSTORE_SECRET=bench-secret-0123456789abcdef
. scripts/lib/servers.sh
pids=()
rpid=
cleanup() {
  for p in "${pids[@]}"; do stop_pid "$p"; done
  kill -9 "$rpid" 2>/dev/null || true; wait "$rpid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
start_private_redis "$tmp"
rport=$redis_port
rpid=$redis_pid
start_node() { # start_node ID PORT CLUSTER -> pid
  start_serve "$tmp/$1" "$bin" --redis "redis://127.0.0.1:$rport/0" --port "$2" \
    --cluster.enabled "$3" --cluster.node-id "$1" --remote.max-outstanding 1024
}
pa=$(free_port); pb=$(free_port); pc=$(free_port); ps=$(free_port)
pids+=("$(start_node na "$pa" true)")
pids+=("$(start_node nb "$pb" true)")
pids+=("$(start_node nc "$pc" true)")
pids+=("$(start_node ns "$ps" false)")
sleep 1 # the registrars' first heartbeats: members known
echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "nodes: 3 x cluster.enabled (default lease 3000 ms) + 1 x cluster off, one redis-server $(redis-server --version | cut -d' ' -f3), all on this machine"
"$bench" --owner "$pa" --other "$pb" --third "$pc" --single "$ps" "$@"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
