// error.cpp -- SQLSTATEs and connection states into pg_error_kind, and
// kinds into errc, retry classes and hints (design in the header).
//
// SQLSTATE values are PostgreSQL's (Appendix A, "PostgreSQL Error Codes");
// the server's errcodes.h is not installed with libpq, so the few this
// store tells apart are spelled out below, each with its condition name.
#include "postgres/error.hpp"

#include <iterator>

#include <libpq-fe.h>

namespace authstore {

namespace {

struct sqlstate_kind {
  std::string_view code;
  pg_error_kind kind;
};

// Exact codes first; whole classes (the first two characters) below.
constexpr sqlstate_kind exact_codes[] = {
  {"00000", pg_error_kind::none},                  // successful_completion
  {"40001", pg_error_kind::serialization_failure}, // serialization_failure
  {"40P01", pg_error_kind::deadlock},              // deadlock_detected
  {"25006", pg_error_kind::read_only},             // read_only_sql_transaction
  {"53100", pg_error_kind::disk_full},             // disk_full
  {"53200", pg_error_kind::out_of_memory},         // out_of_memory
  {"53300", pg_error_kind::too_many_connections},  // too_many_connections
  {"28000", pg_error_kind::auth_failed}, // invalid_authorization_specification
  {"28P01", pg_error_kind::auth_failed}, // invalid_password
  {"42501", pg_error_kind::insufficient_privilege}, // insufficient_privilege
  {"42P01", pg_error_kind::undefined_object},       // undefined_table
  {"3F000", pg_error_kind::undefined_object},       // invalid_schema_name
  {"42703", pg_error_kind::undefined_object},       // undefined_column
  {"42883", pg_error_kind::undefined_object},       // undefined_function
  {"42704", pg_error_kind::undefined_object},       // undefined_object
  {"26000", pg_error_kind::undefined_object},  // invalid_sql_statement_name
  {"3D000", pg_error_kind::invalid_database},  // invalid_catalog_name
  {"57014", pg_error_kind::statement_timeout}, // query_canceled
  {"55P03", pg_error_kind::lock_timeout},      // lock_not_available
  {"57P01", pg_error_kind::admin_shutdown},    // admin_shutdown
  {"57P02", pg_error_kind::admin_shutdown},    // crash_shutdown
  {"57P03", pg_error_kind::admin_shutdown},    // cannot_connect_now
  {"57P04", pg_error_kind::admin_shutdown},    // database_dropped
};

constexpr sqlstate_kind code_classes[] = {
  {"08", pg_error_kind::connection_lost},      // connection_exception
  {"23", pg_error_kind::constraint_violation}, // integrity_constraint_violation
};

bool is_sqlstate_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

bool is_sqlstate(std::string_view x) {
  if (x.size() != 5)
    return false;
  for (char c : x)
    if (!is_sqlstate_char(c))
      return false;
  return true;
}

} // namespace

std::string_view to_string(pg_error_kind x) {
  // Indexed by the enum's value; keep in declaration order.
  static constexpr std::string_view names[] = {"none",
                                               "serialization_failure",
                                               "deadlock",
                                               "read_only",
                                               "disk_full",
                                               "out_of_memory",
                                               "too_many_connections",
                                               "auth_failed",
                                               "insufficient_privilege",
                                               "undefined_object",
                                               "invalid_database",
                                               "statement_timeout",
                                               "lock_timeout",
                                               "admin_shutdown",
                                               "connection_lost",
                                               "connect_failed",
                                               "io_timeout",
                                               "constraint_violation",
                                               "schema_mismatch",
                                               "protocol",
                                               "other"};
  static_assert(std::size(names) == pg_error_kind_count);
  auto i = static_cast<size_t>(x);
  return i < std::size(names) ? names[i] : "other";
}

pg_error_kind classify_sqlstate(std::string_view sqlstate) {
  if (!is_sqlstate(sqlstate))
    return pg_error_kind::other;
  for (const auto& x : exact_codes)
    if (x.code == sqlstate)
      return x.kind;
  for (const auto& x : code_classes)
    if (x.code == sqlstate.substr(0, 2))
      return x.kind;
  return pg_error_kind::other;
}

std::string_view sqlstate_of_message(std::string_view message) {
  // PQERRORS_SQLSTATE renders a server error as "<SEVERITY>:  <CODE>". The
  // severities a connect can end with are FATAL and (rarely) ERROR; PANIC
  // never reaches a client. libpq may prefix "connection to server at ...
  // failed: " and, after trying several hosts, join several such lines: the
  // last code wins, it is the attempt that ended the connect.
  std::string_view found;
  for (std::string_view severity : {"FATAL:  ", "ERROR:  "}) {
    for (size_t at = message.find(severity); at != std::string_view::npos;
         at = message.find(severity, at + 1)) {
      auto code = message.substr(at + severity.size(), 5);
      auto after = at + severity.size() + 5;
      bool ends = after >= message.size() || message[after] == '\n'
                  || message[after] == ' ';
      if (is_sqlstate(code) && ends
          && (found.empty() || code.data() > found.data()))
        found = code;
    }
  }
  return found;
}

pg_error_kind classify(const pg_result* result, const pg_conn* conn) {
  if (result) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    if (state && *state)
      return classify_sqlstate(state);
  }
  // libpq's own failures (a broken socket, an out-of-sync protocol) carry
  // no SQLSTATE; the connection status tells a lost connection apart.
  if (!conn || PQstatus(conn) != CONNECTION_OK)
    return pg_error_kind::connection_lost;
  return pg_error_kind::protocol;
}

pg_error_kind classify_connect(const pg_conn* conn) {
  if (!conn)
    return pg_error_kind::out_of_memory; // PQconnectStart could not allocate
  auto code = sqlstate_of_message(PQerrorMessage(conn));
  if (!code.empty()) {
    auto kind = classify_sqlstate(code);
    // A connect that ended in a class-08 code never got a connection.
    return kind == pg_error_kind::connection_lost
             ? pg_error_kind::connect_failed
             : kind;
  }
  if (PQconnectionNeedsPassword(conn))
    return pg_error_kind::auth_failed;
  return pg_error_kind::connect_failed;
}

bool is_conflict(pg_error_kind x) {
  return x == pg_error_kind::serialization_failure
         || x == pg_error_kind::deadlock;
}

bool is_transient(pg_error_kind x) {
  switch (x) {
    case pg_error_kind::read_only:
    case pg_error_kind::too_many_connections:
    case pg_error_kind::admin_shutdown:
    case pg_error_kind::connection_lost:
    case pg_error_kind::connect_failed:
    case pg_error_kind::io_timeout:
      return true;
    default:
      return false;
  }
}

errc to_errc(pg_error_kind x) {
  // Exactly the kinds a new connection may cure: the server is not there
  // for us now, which is what cold_unavailable tells a caller.
  if (is_transient(x))
    return errc::cold_unavailable;
  switch (x) {
    case pg_error_kind::statement_timeout:
    case pg_error_kind::lock_timeout:
      return errc::timeout;
    case pg_error_kind::auth_failed:
    case pg_error_kind::insufficient_privilege:
    case pg_error_kind::undefined_object:
    case pg_error_kind::invalid_database:
    case pg_error_kind::schema_mismatch:
      return errc::invalid_config;
    default:
      return errc::cold_error;
  }
}

std::string_view hint(pg_error_kind x) {
  switch (x) {
    case pg_error_kind::read_only:
      return "the server is read-only (a standby, or "
             "default_transaction_read_only): point the URI at the primary "
             "(target_session_attrs=read-write)";
    case pg_error_kind::disk_full:
      return "free disk space on the server";
    case pg_error_kind::too_many_connections:
      return "raise max_connections or lower the number of clients";
    case pg_error_kind::auth_failed:
      return "check the user and password of the cold-store URI";
    case pg_error_kind::insufficient_privilege:
      return "grant the role USAGE on the schema and SELECT, INSERT, "
             "UPDATE, DELETE on its tables";
    case pg_error_kind::undefined_object:
      return "the schema is missing or incomplete: run authstore migrate";
    case pg_error_kind::invalid_database:
      return "create the database named in the URI";
    case pg_error_kind::statement_timeout:
    case pg_error_kind::lock_timeout:
      return "the server did not finish within the call timeout; it may or "
             "may not have been applied";
    case pg_error_kind::connect_failed:
    case pg_error_kind::connection_lost:
    case pg_error_kind::io_timeout:
    case pg_error_kind::admin_shutdown:
      return "the server is unreachable";
    default:
      return "";
  }
}

} // namespace authstore
