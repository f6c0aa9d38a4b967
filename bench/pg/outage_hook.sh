#!/usr/bin/env bash
# bench/pg/outage_hook.sh EVENT -- the hook bench/pg/outage.sh gives
# outage_bench (see its header): outage_begin / outage_over SIGSTOP /
# SIGCONT PostgreSQL (postmaster and every backend, bench/pg/server.sh);
# drained exits 0 once no session has been dirty for more than 2 s; every
# other event (a phase's start or end) samples the node's and
# redis-server's CPU time, INFO commandstats and the node's /metrics into
# $run_dir/EVENT.*. Reads run_dir, redis_port, node_pid, redis_pid,
# http_port, pg_raw, pg_runner from the environment.
set -u
cd "$(dirname "$0")/../.."
. bench/pg/server.sh
ev=$1
case $ev in
  outage_begin) pg_signal STOP; exit 0 ;;
  outage_over) pg_signal CONT; exit 0 ;;
  drained)
    old=$(redis-cli -p "$redis_port" zcount as:dirty -inf "$(($(date +%s%3N) - 2000))")
    [ "$old" = 0 ]
    exit
    ;;
esac
{
  echo "t $(date +%s.%N)"
  echo "node $(cut -d' ' -f14,15 "/proc/$node_pid/stat")"
  echo "redis $(cut -d' ' -f14,15 "/proc/$redis_pid/stat")"
  echo "load $(cut -d' ' -f1 /proc/loadavg)"
} >"$run_dir/$ev.cpu"
redis-cli -p "$redis_port" info commandstats >"$run_dir/$ev.cmdstats"
curl -s "http://127.0.0.1:$http_port/metrics" >"$run_dir/$ev.metrics" || true
