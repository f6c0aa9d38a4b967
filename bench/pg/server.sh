# bench/pg/server.sh -- sourced by bench/pg/sim.sh: a private, durable
# PostgreSQL 15 for one bench run. initdb into a temp dir (as the postgres
# user when run as root: the server refuses root), a free loopback port, its
# own socket dir, fsync = on, synchronous_commit = on, full_page_writes = on
# (the defaults, spelled out), shared_buffers = 128MB. Stopped by pid
# (SIGCONT first, then SIGINT: fast shutdown) by pg_server_stop.
# Sets: pg_bin, pg_raw (the temp dir), pg_port, pg_uri, pg_runner.
pg_bin=/usr/lib/postgresql/15/bin
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_server_start() {
  pg_raw=$(mktemp -d /tmp/authstore-pgsim-XXXXXX)
  [ "$(id -u)" -eq 0 ] && chown postgres "$pg_raw"
  pg_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
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
  as_pg "$pg_bin/postgres" -D "$pg_raw/data" >"$pg_raw/server.log" 2>&1 &
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
  [ -n "${pg_runner:-}" ] && wait "$pg_runner" 2>/dev/null || true
  [ -n "${pg_raw:-}" ] && rm -rf "$pg_raw"
}
