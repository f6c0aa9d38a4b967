// pg_server.cpp -- the test-only parts of the PostgreSQL harness
// (pg_server.hpp); the servers themselves are private_postgres.
#include "tests/postgres/pg_server.hpp"

#include <libpq-fe.h>
#include <unistd.h>

namespace authstore::test {

pg_server* shared_pg_server(std::string* why) {
  static pg_server server;
  static bool started = server.start();
  if (!started && why)
    *why = server.last_error();
  return started ? &server : nullptr;
}

pg_client::pg_client(const std::string& uri) {
  conn_ = PQconnectdb(uri.c_str());
  if (PQstatus(conn_) != CONNECTION_OK)
    error_ = PQerrorMessage(conn_);
  PQsetNoticeProcessor(
    conn_, [](void*, const char*) {}, nullptr);
}

pg_client::~pg_client() {
  PQfinish(conn_);
}

bool pg_client::is_open() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

bool pg_client::exec(const std::string& sql, std::string* value) {
  error_.clear();
  sqlstate_.clear();
  if (!is_open()) {
    error_ = "not connected: " + std::string(PQerrorMessage(conn_));
    return false;
  }
  PGresult* r = PQexec(conn_, sql.c_str());
  auto status = PQresultStatus(r);
  bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok) {
    error_ = PQresultErrorMessage(r);
    if (const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE))
      sqlstate_ = state;
  } else if (value) {
    *value = PQntuples(r) > 0 && PQnfields(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  }
  PQclear(r);
  return ok;
}

std::string fresh_schema() {
  static int counter = 0;
  return "t_" + std::to_string(getpid()) + "_" + std::to_string(++counter);
}

} // namespace authstore::test
