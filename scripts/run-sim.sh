#!/usr/bin/env bash
# run-sim.sh -- the README's first command: installs what is missing, builds
# the authstore binary, and runs a short load simulation against a
# redis-server the simulator starts (and stops) itself. Arguments replace the
# default simulation options, e.g. `bash scripts/run-sim.sh --sessions 1000`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_dir=$(bash scripts/build.sh --target authstore | tail -n 1)
if [ $# -eq 0 ]; then
  set -- --sessions 200 --concurrency 32 --duration 10
fi
exec "$build_dir/authstore" sim "$@"
