// pg_server.hpp -- the PostgreSQL test harness: private servers
// (runtime/sim/private_postgres.hpp, shared with the simulator) and what
// only tests need on top of them: a blocking libpq client for holding locks
// and opening transactions, fresh schema names, and one shared server per
// test process.
#pragma once

#include <string>

#include "runtime/sim/private_postgres.hpp"

struct pg_conn; // libpq's PGconn

namespace authstore::test {

/// A private PostgreSQL 15 cluster (see private_postgres.hpp for the
/// processes, zombies and stale lock files it deals with).
using pg_server = private_postgres;
using pg_server_options = private_postgres_options;

/// A blocking libpq session for tests: holding locks, opening
/// transactions, counting connections (things a one-shot exec() cannot).
class pg_client {
public:
  /// Connects to `uri` (check is_open()).
  explicit pg_client(const std::string& uri);
  ~pg_client();
  pg_client(const pg_client&) = delete;
  pg_client& operator=(const pg_client&) = delete;

  bool is_open() const;
  /// Runs `sql`; the first column of the first row into `value` when
  /// given. False on failure, with the message in last_error() and the
  /// SQLSTATE in last_sqlstate().
  bool exec(const std::string& sql, std::string* value = nullptr);
  const std::string& last_error() const { return error_; }
  const std::string& last_sqlstate() const { return sqlstate_; }

private:
  pg_conn* conn_ = nullptr;
  std::string error_;
  std::string sqlstate_;
};

/// A PostgreSQL schema name unique in this process ("t_<pid>_<n>").
std::string fresh_schema();

/// The process's shared server with default options, started on first use
/// and stopped at exit; null when it failed to start (`why` says why).
pg_server* shared_pg_server(std::string* why = nullptr);

} // namespace authstore::test
