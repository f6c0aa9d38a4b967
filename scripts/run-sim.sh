#!/usr/bin/env bash
# run-sim.sh -- the README's first command: installs what is missing, builds
# the authstore binary, and runs a short load simulation against a
# redis-server the simulator starts (and stops) itself. Arguments replace the
# default simulation options, e.g. `bash scripts/run-sim.sh --sessions 1000`.
#
# With a cold store: `--cold postgres` makes the simulator also start its own
# PostgreSQL 15 (a private, durable cluster in a temp dir: `authstore sim
# --cold-server postgresql`, runtime/sim/private_postgres) and persist every
# session into it; `--cold URI` uses a server you run. The other arguments
# still replace the defaults, e.g.
#   bash scripts/run-sim.sh --cold postgres
#   bash scripts/run-sim.sh --cold postgres --duration 60 --fault cold-pause@15:30
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
others=0 # arguments other than the cold-store choice
while [ $# -gt 0 ]; do
  if [ "$1" = "--cold" ] && [ "${2:-}" = "postgres" ]; then
    args+=(--cold-server postgresql)
    shift 2
  elif [ "$1" = "--cold" ] && [ $# -ge 2 ]; then
    args+=("$1" "$2")
    shift 2
  else
    args+=("$1")
    others=$((others + 1))
    shift
  fi
done
# Nothing but (at most) the cold-store choice: the default simulation.
if [ "$others" -eq 0 ]; then
  args+=(--sessions 200 --concurrency 32 --duration 10)
fi
bash scripts/install-deps.sh
build_dir=$(bash scripts/build.sh --target authstore | tail -n 1)
exec "$build_dir/authstore" sim "${args[@]}"
