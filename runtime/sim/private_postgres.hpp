// private_postgres.hpp -- a private PostgreSQL 15 for one process: the
// simulator's cold store (`authstore sim --cold-server postgresql`, with
// faults it injects) and the test harness of every PostgreSQL test
// (tests/postgres/pg_server.hpp).
//
// Why: the store's promises (a guarded upsert really guards, a transaction
// really is all or nothing, a SQLSTATE really means what error.hpp says)
// can only be checked against the real server, and a simulation with a
// durable cold store needs one it may pause and kill. Each private_postgres
// is its own cluster: initdb into a temp dir, a free loopback port, its own
// unix_socket_directories, started and stopped by pid. CAF-free.
//
// Running as root: PostgreSQL refuses to run as root, so initdb, postgres
// and pg_ctl run as the `postgres` user (fork + setgid/initgroups/setuid),
// and the temp dir is chowned to it. As any other user they run as that
// user. initdb runs once per process into a template; each server copies
// it (initdb takes ~3 s here, a copy a fraction of that).
//
// Durability: fsync (and full_page_writes) are off by default, which is
// fine for tests of semantics and faults that kill processes (the kernel
// keeps the page cache); pass fsync = true where durability is measured
// (the simulator does).
//
// Processes, zombies and stale lock files. PID 1 on these machines does not
// reap orphans. After a SIGKILL of the postmaster its backends are
// orphans; a zombie still owns its pid, and PostgreSQL decides whether an
// old postmaster.pid or socket lock file (`.s.PGSQL.<port>.lock` in the
// socket dir) is stale by probing that pid -- so a zombie blocks the
// restart ("lock file ... already exists"). The harness therefore:
//   - makes this process a child subreaper (PR_SET_CHILD_SUBREAPER), so
//     orphaned backends, and the postmaster that `pg_ctl restart` leaves
//     behind when pg_ctl exits, become its children and can be reaped;
//   - kill(): collects the postmaster's children from /proc, SIGKILLs the
//     postmaster and each child by pid (and any child forked meanwhile),
//     reaps them all, then removes the stale postmaster.pid, the socket
//     lock file and the socket, and the orphaned System V shared memory
//     segment named in postmaster.pid when nothing is attached to it.
// This is the launcher's job, not the store's: the store only reconnects.
#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

namespace authstore {

/// How a private server is set up.
struct private_postgres_options {
  /// Where initdb, postgres and pg_ctl are (Debian's postgresql-15).
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  /// fsync and full_page_writes (off: fast; on: durable, for benches).
  bool fsync = false;
  /// max_connections (superuser_reserved_connections is 3 of these).
  int max_connections = 20;
  /// Extra postgresql.conf lines, e.g. "deadlock_timeout = 100ms".
  std::vector<std::string> settings;
};

class private_postgres {
public:
  explicit private_postgres(private_postgres_options options = {});
  ~private_postgres(); // stops (or kills) the server and removes its files
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// Creates the cluster (first call) and starts the postmaster; true once
  /// it accepts connections. The port stays the same across restarts.
  bool start();

  /// Fast shutdown (SIGINT: sessions are terminated; SIGTERM's "smart"
  /// shutdown would wait for every client, including the store under
  /// test), then waits for the postmaster by pid; kill() after 30 s.
  bool stop();

  /// SIGKILL of the postmaster and every backend, by pid; reaps them and
  /// clears the stale files (see the file comment).
  void kill();

  /// SIGSTOP / SIGCONT to the postmaster and every backend: a hung server
  /// whose sockets stay open.
  void pause();
  void resume();

  /// stop() then start().
  bool restart();

  /// `pg_ctl restart -m immediate` (crash-like: no checkpoint, recovery at
  /// start); the new postmaster is adopted by pid.
  bool restart_immediate();

  /// postgresql://user[:password]@127.0.0.1:port/db
  std::string uri(const std::string& user = "postgres",
                  const std::string& password = "",
                  const std::string& db = "postgres") const;

  /// Runs `sql` as the superuser; the first column of the first row into
  /// `value` when given. False (and last_error()) on failure.
  bool exec(const std::string& sql, std::string* value = nullptr);

  /// The message of the last failed exec() or start().
  const std::string& last_error() const { return error_; }

  int port() const { return port_; }
  pid_t pid() const { return postmaster_; }
  bool is_running() const;
  /// The server's log (stderr of postgres and pg_ctl).
  std::string log() const;

private:
  bool launch();
  bool wait_ready();
  bool wait_gone(pid_t pid, int timeout_ms);
  std::vector<pid_t> children() const;
  void clear_stale_files();

  private_postgres_options options_;
  std::string dir_;
  int port_ = 0;
  pid_t postmaster_ = -1;
  std::string error_;
};

} // namespace authstore
