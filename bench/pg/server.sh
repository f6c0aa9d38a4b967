# bench/pg/server.sh -- sourced by bench/pg/{run,sim,outage}.sh: a private, durable
# PostgreSQL 15 for one bench run. initdb into a temp dir (as the postgres
# user when run as root: the server refuses root), a free loopback port, its
# own socket dir, fsync = on, synchronous_commit = on, full_page_writes = on
# (the defaults, spelled out), shared_buffers = 128MB. Stopped by pid
# (SIGCONT first, then SIGINT: fast shutdown) by pg_server_stop.
# Sets: pg_bin, pg_raw (the temp dir), pg_port, pg_uri, pg_runner. Sources
# scripts/lib/servers.sh (free_port, start_private_redis, stop_pid): the
# sourcing script runs from the repository's root.
. scripts/lib/servers.sh
pg_bin=/usr/lib/postgresql/15/bin
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_server_start() {
  pg_raw=$(mktemp -d /tmp/authstore-pgsim-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$pg_raw"
  pg_port=$(free_port)
  as_pg "$pg_bin/initdb" -D "$pg_raw/data" -U postgres -A trust -E UTF8 --locale=C >"$pg_raw/initdb.log"
  cat >>"$pg_raw/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $pg_port
unix_socket_directories = '$pg_raw'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 50
shared_buffers = 128MB
CONF
  # A simple command in the background, not the as_pg function: $! must be
  # runuser's own pid (a backgrounded function runs in a subshell, and a
  # CONT sent to that subshell never reaches a runuser that stopped itself).
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$pg_bin/postgres" -D "$pg_raw/data" >"$pg_raw/server.log" 2>&1 &
  else
    "$pg_bin/postgres" -D "$pg_raw/data" >"$pg_raw/server.log" 2>&1 &
  fi
  pg_runner=$!
  for _ in $(seq 1 200); do
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
    sleep 0.1
  done
  pg_uri="postgresql://postgres@127.0.0.1:$pg_port/postgres"
}
# The postmaster's pid and its children's (the backends), by pid.
pg_pids() {
  local pm
  pm=$(head -n 1 "$pg_raw/data/postmaster.pid")
  echo "$pm" $(pgrep -P "$pm" || true)
}
pg_signal() { # SIGNAL: to the postmaster and every backend
  # shellcheck disable=SC2046
  kill -"$1" $(pg_pids) 2>/dev/null || true
  # runuser stops itself when its child stops (as su does) and stays
  # stopped: it must be continued too, or it never reaps the postmaster.
  if [ "$1" = CONT ] && [ -n "${pg_runner:-}" ]; then
    kill -CONT "$pg_runner" 2>/dev/null || true
  fi
}
pg_server_stop() {
  if [ -n "${pg_raw:-}" ] && [ -f "$pg_raw/data/postmaster.pid" ]; then
    pg_signal CONT
    kill -INT "$(head -n 1 "$pg_raw/data/postmaster.pid")" 2>/dev/null || true
  fi
  if [ -n "${pg_runner:-}" ]; then
    # runuser stops itself when it sees its child stopped, and may see it
    # only after the CONT above (a race with the SIGSTOP rounds): continue it
    # until it has exited, so the wait below cannot hang on a stopped
    # runuser (it used to: bench/pg/outage.sh's known hang at exit).
    local _
    for _ in $(seq 1 300); do
      kill -0 "$pg_runner" 2>/dev/null || break
      [ "$(ps -o stat= -p "$pg_runner" 2>/dev/null | cut -c1)" = Z ] && break
      kill -CONT "$pg_runner" 2>/dev/null || true
      sleep 0.1
    done
    wait "$pg_runner" 2>/dev/null || true
  fi
  [ -n "${pg_raw:-}" ] && rm -rf "$pg_raw"
}
