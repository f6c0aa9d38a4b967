#!/usr/bin/env bash
# outbox-sim.sh -- measures the outbox (issue #5) under the load simulation:
# how many acknowledged writes each cold-store persist carries (coalescing),
# how large the backlog grows during a cold-store outage, how fast it drains,
# and that the cold copy equals the hot one afterwards.
#
# Two runs of `authstore sim` with a cold store, each against a fresh
# tests/mongowire/mini_mongod.py (a single-threaded Python MongoDB wire
# server: there is no mongod on these machines) on a free loopback port:
#   outage     SIGSTOP the cold store at OUTAGE_AT s, SIGCONT OUTAGE_S later
#              (a hung MongoDB mid-load; counted from the sim's launch)
#   no-outage  the same plan and seed, nothing injected
# Then mini_mongod's own mutation rate is measured on the no-outage run's
# final data (pymongo, one command at a time), since that server, not
# authstore, bounds the drain rate here.
#
# Output: OUT_DIR/NAME.json ({outage, no_outage: the sim's --json reports
# plus exit codes and the cold store's CPU use, sampled every second;
# mini_mongod_rate}), and the text reports OUT_DIR/NAME-{outage,no-outage}.txt.
# Knobs (environment): SESSIONS (1000), CONCURRENCY (32), DURATION (60),
# OUTAGE_AT (20), OUTAGE_S (20), SEED (7), DRAIN_TIMEOUT_S (120), OUT_DIR,
# NAME (outbox-sim), SIM_ARGS (more `authstore sim` flags for both runs,
# e.g. "--outbox.max-in-flight 256 --outbox.interval-ms 250").
# Loopback only; every process it starts is stopped by pid on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

sessions=${SESSIONS:-1000}
concurrency=${CONCURRENCY:-32}
duration=${DURATION:-60}
outage_at=${OUTAGE_AT:-20}
outage_s=${OUTAGE_S:-20}
seed=${SEED:-7}
drain_timeout=${DRAIN_TIMEOUT_S:-120}
out_dir=${OUT_DIR:-bench/results/$(date +%F)}
name=${NAME:-outbox-sim}
read -r -a sim_args <<<"${SIM_ARGS:-}"
python=/usr/bin/python3
mini_mongod=tests/mongowire/mini_mongod.py

build_dir=$(AUTHSTORE_BUILD_DIR=${AUTHSTORE_BUILD_DIR:-build-sim} \
  AUTHSTORE_BUILD_TYPE=${AUTHSTORE_BUILD_TYPE:-Release} \
  AUTHSTORE_JOBS=${AUTHSTORE_JOBS:-1} scripts/build.sh --target authstore)
bin=$build_dir/authstore
mkdir -p "$out_dir"
tmp=$(mktemp -d /tmp/outbox-sim.XXXXXX)

mongod_pid=
sim_pid=
cpu_pid=
cleanup() {
  if [ -n "$cpu_pid" ]; then
    kill "$cpu_pid" 2>/dev/null || true
    wait "$cpu_pid" 2>/dev/null || true
  fi
  # A stopped process ignores SIGTERM until continued.
  if [ -n "$mongod_pid" ]; then
    kill -CONT "$mongod_pid" 2>/dev/null || true
    kill "$mongod_pid" 2>/dev/null || true
    wait "$mongod_pid" 2>/dev/null || true
  fi
  if [ -n "$sim_pid" ]; then
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  # A sim killed by a signal leaves its own redis-server behind.
  for f in "$tmp"/*.err; do
    [ -e "$f" ] || continue
    local rpid
    rpid=$(sed -n 's/^sim: started redis-server pid \([0-9]*\) .*/\1/p' "$f")
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Starts mini_mongod on data file $1; sets mongod_pid and mongod_port.
start_mongod() {
  "$python" "$mini_mongod" --data-file "$1" --port 0 >"$tmp/mongod.out" \
    2>>"$tmp/mongod.log" &
  mongod_pid=$!
  for _ in $(seq 600); do
    [ -s "$tmp/mongod.out" ] && break
    kill -0 "$mongod_pid" 2>/dev/null || { echo "mini_mongod died" >&2; exit 1; }
    sleep 0.1
  done
  mongod_port=$(head -1 "$tmp/mongod.out")
  [ -n "$mongod_port" ] || { echo "mini_mongod printed no port" >&2; exit 1; }
}

stop_mongod() {
  kill -CONT "$mongod_pid" 2>/dev/null || true
  kill "$mongod_pid" 2>/dev/null || true
  wait "$mongod_pid" 2>/dev/null || true
  mongod_pid=
}

# CPU seconds (user + system) a process used so far.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

# run RUN OUTAGE(0|1): one simulation; writes $tmp/RUN.{json,txt,err,meta,cpu}.
run() {
  local run=$1 outage=$2
  rm -f "$tmp/mongod.out"
  start_mongod "$tmp/$run.bson"
  # The cold store's CPU seconds, once a second (how busy its one thread is).
  (while kill -0 "$mongod_pid" 2>/dev/null; do
     echo "$(date +%s.%N) $(cpu_seconds "$mongod_pid" 2>/dev/null)"
     sleep 1
   done) >"$tmp/$run.cpu" 2>/dev/null &
  cpu_pid=$!
  local uri="mongodb://127.0.0.1:$mongod_port/?serverSelectionTimeoutMS=2000&connectTimeoutMS=1000&socketTimeoutMS=5000"
  echo "outbox-sim: $run: mini_mongod pid $mongod_pid port $mongod_port" >&2
  local limit=$((duration + drain_timeout + 600))
  local t0
  t0=$(date +%s.%N)
  timeout "$limit" "$bin" sim --sessions "$sessions" \
    --concurrency "$concurrency" --duration "$duration" --seed "$seed" \
    --drain-timeout-s "$drain_timeout" --mongodb "$uri" \
    --mongodb.write-concern 1 --json "$tmp/$run.json" "${sim_args[@]}" \
    >"$tmp/$run.txt" 2>"$tmp/$run.err" &
  sim_pid=$!
  local stop_at=null cont_at=null
  if [ "$outage" = 1 ]; then
    sleep "$outage_at"
    if kill -0 "$sim_pid" 2>/dev/null; then
      kill -STOP "$mongod_pid"
      stop_at=$(echo "$(date +%s.%N) - $t0" | bc)
      echo "outbox-sim: $run: SIGSTOP mini_mongod at $stop_at s" >&2
      sleep "$outage_s"
      kill -CONT "$mongod_pid"
      cont_at=$(echo "$(date +%s.%N) - $t0" | bc)
      echo "outbox-sim: $run: SIGCONT mini_mongod at $cont_at s" >&2
    fi
  fi
  local rc=0
  wait "$sim_pid" || rc=$?
  sim_pid=
  local wall cpu size
  wall=$(echo "$(date +%s.%N) - $t0" | bc)
  cpu=$(cpu_seconds "$mongod_pid")
  stop_mongod
  kill "$cpu_pid" 2>/dev/null || true
  wait "$cpu_pid" 2>/dev/null || true
  cpu_pid=
  size=$(stat -c %s "$tmp/$run.bson" 2>/dev/null || echo 0)
  echo "outbox-sim: $run: sim exit $rc after $wall s; mini_mongod used" \
    "$cpu CPU s; data file $size bytes" >&2
  [ "$rc" = 0 ] || tail -5 "$tmp/$run.err" >&2
  cp "$tmp/$run.txt" "$out_dir/$name-$run.txt"
  cat "$tmp/$run.txt" >&2
  printf '{"exit_code": %s, "launch_epoch_s": %s, "wall_s": %s, "outage_stop_s": %s, "outage_cont_s": %s, "mini_mongod_cpu_s": %s, "mini_mongod_data_file_bytes": %s, "sim_args": "%s"}\n' \
    "$rc" "$t0" "$wall" "$stop_at" "$cont_at" "$cpu" "$size" "${SIM_ARGS:-}" \
    >"$tmp/$run.meta"
}

run outage 1
run no-outage 0

# mini_mongod's own rate on the no-outage run's final state: update
# commands one at a time (1 item, and 30 items like a pre-key refill), and
# whole-session loads, from one pymongo client.
rm -f "$tmp/mongod.out"
start_mongod "$tmp/no-outage.bson"
cat >"$tmp/rate.py" <<'EOF'
import json, sys, time
from pymongo import MongoClient
port, sid = int(sys.argv[1]), sys.argv[2]
db = MongoClient('127.0.0.1', port, serverSelectionTimeoutMS=5000)['ratecheck']
def timed(n, f):
    t = time.monotonic()
    for i in range(n):
        f(i)
    return n / (time.monotonic() - t)
def upd(items):
    return lambda i: db.command('update', 'probe', updates=[
        {'q': {'_id': 'p%d-%d' % (i % 50, k)}, 'u': {'$set': {'v': i}},
         'upsert': True} for k in range(items)])
keys = MongoClient('127.0.0.1', port)['authstore']['keys']
print(json.dumps({
    'update_1_item_commands_per_s': timed(2000, upd(1)),
    'update_30_items_commands_per_s': timed(300, upd(30)),
    'find_one_session_keys_per_s': timed(50, lambda i: list(
        keys.find({'_id.s': sid}))),
    'session_probed': sid}))
EOF
rate=$("$python" "$tmp/rate.py" "$mongod_port" "sim-$seed-0")
stop_mongod
echo "outbox-sim: mini_mongod rate: $rate" >&2

"$python" - "$tmp" "$out_dir/$name.json" "$rate" "$mini_mongod" <<'EOF'
import hashlib, json, sys
tmp, out, rate, server = sys.argv[1:5]
def load(name):
    r = {'meta': json.load(open('%s/%s.meta' % (tmp, name)))}
    try:
        r['report'] = json.load(open('%s/%s.json' % (tmp, name)))
    except OSError:
        r['report'] = None
    # [t_s since the sim's launch, share of one core over the last second]
    t0 = r['meta']['launch_epoch_s']
    samples = []
    for line in open('%s/%s.cpu' % (tmp, name)):
        parts = line.split()
        if len(parts) == 2:
            samples.append((float(parts[0]) - t0, float(parts[1])))
    r['mini_mongod_cpu_share'] = [
        [round(b[0], 2), round((b[1] - a[1]) / (b[0] - a[0]), 3)]
        for a, b in zip(samples, samples[1:]) if b[0] > a[0]]
    return r
json.dump({'outage': load('outage'), 'no_outage': load('no-outage'),
           'mini_mongod_rate': json.loads(rate),
           'mini_mongod_sha256': hashlib.sha256(
               open(server, 'rb').read()).hexdigest()},
          open(out, 'w'), indent=1)
EOF
echo "outbox-sim: wrote $out_dir/$name.json" >&2
