# scripts/lib/servers.sh -- sourced by the test and bench scripts: a free
# loopback port, a private redis-server, stopping a process by pid. One copy
# of what every script used to write out for itself.
#
#   . scripts/lib/servers.sh
#   start_private_redis "$dir"    # sets redis_port, redis_pid, redis_url
#   ...
#   stop_pid "$redis_pid"
#   pid=$(start_serve "$dir/node" build/authstore --port 0 --redis "$redis_url")

# free_port: a TCP port on 127.0.0.1 that was free a moment ago (bind to 0,
# close; the kernel's choice).
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_private_redis DIR [ARGS...]: redis-server on a free loopback port,
# no persistence, its files and log (DIR/redis.log) in DIR, ARGS appended
# to its command line; a child of this shell. Sets redis_port, redis_pid
# and redis_url (database 0). Fails (status 1, a line on stderr naming the
# log) if it does not answer PING within 5 s.
start_private_redis() {
  # Absolute: redis-server changes into --dir before it opens --logfile, so
  # a relative DIR named a log file that did not exist (bench/pg/outage.sh).
  local dir
  dir=$(cd "$1" && pwd) || return 1
  shift
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no --dir "$dir" --logfile "$dir/redis.log" "$@" &
  redis_pid=$!
  redis_url=redis://127.0.0.1:$redis_port/0
  local _
  for _ in $(seq 1 100); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "start_private_redis: redis-server (pid $redis_pid, port $redis_port) did not answer within 5 s; see $dir/redis.log" >&2
  return 1
}

# stop_pid PID [GRACE_S]: SIGTERM, wait up to GRACE_S (default 10) seconds,
# then SIGKILL; reaps it if it is a child of this shell. No PID: nothing.
stop_pid() {
  local pid=$1 grace=${2:-10} _
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    # A zombie child counts as gone (PID 1 here does not reap orphans).
    [ "$(ps -o stat= -p "$pid" 2>/dev/null | cut -c1)" = Z ] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# start_serve LOG BIN ARGS...: `BIN serve ARGS...` in the background, its
# stdout in LOG.out and stderr in LOG.err; prints its pid once it printed
# "authstore: listening on" (fails, status 1, after 10 s without it).
start_serve() {
  local log=$1 bin=$2 _
  shift 2
  "$bin" serve "$@" >"$log.out" 2>"$log.err" &
  local pid=$!
  for _ in $(seq 1 200); do
    if grep -q "authstore: listening on" "$log.out" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
    sleep 0.05
  done
  echo "start_serve: $bin serve did not listen within 10 s; see $log.err" >&2
  echo "$pid"
  return 1
}
