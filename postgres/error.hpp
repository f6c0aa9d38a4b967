// error.hpp -- the one place PostgreSQL failures are interpreted.
//
// Why: retries, the errc a caller sees, the circuit breaker and the metrics
// labels must all agree on what a failure *is*, and none of them may read
// server message text (it quotes values and names). userver's habit: one
// classifier per driver returns a closed kind; everything else reads kinds.
//
// Inputs, in order of trust:
//   1. the SQLSTATE of a failed statement (PG_DIAG_SQLSTATE), five
//      characters the server guarantees to keep stable;
//   2. for a failed *connect*, where libpq hands out no PGresult, the
//      SQLSTATE embedded in the connection's error message. The connection
//      is opened with PQERRORS_SQLSTATE verbosity, so a server refusal reads
//      "...failed: FATAL:  28P01" -- the code and nothing else; a
//      client-side failure (refused, unreachable, DNS) carries no code;
//   3. the connection status: a statement that failed on a connection that
//      is now CONNECTION_BAD lost its connection, whatever it was doing.
//
// The kinds are distinct on purpose (a standby after failover, a full disk,
// too many clients and a wrong password are different pages for an
// operator), and each maps to one errc (to_errc) and one retry class:
//   is_conflict:  serialization failure, deadlock -- the transaction is
//                 retried after a short pause, a bounded number of times;
//   is_transient: the connection or the server's role changed -- close the
//                 connection, back off, reconnect, retry (bounded);
//   neither:      reported as it is.
// None of them is "not found" (invariant 4).
#pragma once

#include <cstdint>
#include <string_view>

#include "messages/errors.hpp"

// libpq's opaque types (libpq-fe.h), declared here so that this header does
// not pull libpq into everything that reports a kind.
struct pg_conn;
struct pg_result;

namespace authstore {

/// What kind of failure a PostgreSQL error is (see the file comment). The
/// token of each (to_string) is its metrics label; values only appended.
enum class pg_error_kind : uint8_t {
  /// No error.
  none,
  /// 40001: a concurrent transaction made this one unserializable. Retried.
  serialization_failure,
  /// 40P01: a lock cycle with another transaction; this one was chosen as
  /// the victim and rolled back. Retried.
  deadlock,
  /// 25006: a write on a read-only server or transaction (a standby after
  /// failover, default_transaction_read_only). Reconnect and retry.
  read_only,
  /// 53100: the server's disk is full; it answers but cannot write.
  disk_full,
  /// 53200: the server ran out of memory for this statement.
  out_of_memory,
  /// 53300: max_connections reached. Reconnect later and retry.
  too_many_connections,
  /// 28P01, 28000, or a password the server asked for and the URI lacks.
  auth_failed,
  /// 42501: the role lacks a privilege on the schema or a table.
  insufficient_privilege,
  /// 42P01 / 3F000 / 42703 / 42883: a table, schema, column or function
  /// the store expects is missing (schema not applied, or dropped).
  undefined_object,
  /// 3D000: the database named in the URI does not exist.
  invalid_database,
  /// 57014: statement_timeout (set per call from the call timeout) fired,
  /// or the statement was cancelled.
  statement_timeout,
  /// 55P03: lock_timeout fired, or NOWAIT found the row locked.
  lock_timeout,
  /// 57P01 / 57P02 / 57P03: the server is shutting down, crashed, or is
  /// still starting. Reconnect and retry.
  admin_shutdown,
  /// The connection broke (reset, hang-up, class 08). Reconnect and retry.
  connection_lost,
  /// Could not connect: refused, unreachable, DNS, connect timeout.
  connect_failed,
  /// No answer before the client-side deadline (a hung or stopped server,
  /// a lost network path). The connection is closed. Reconnect and retry.
  io_timeout,
  /// Class 23: a constraint of the schema refused a row (a bug or a foreign
  /// writer: the store's own writes satisfy every constraint).
  constraint_violation,
  /// The schema in the database is of another version than this build
  /// speaks (newer, or older with migration not allowed). Set by
  /// migrate(), never by a server error.
  schema_mismatch,
  /// The server answered something the store did not expect (a result of
  /// the wrong shape, a malformed row).
  protocol,
  /// Anything else.
  other,
};

/// Number of pg_error_kind values (for per-kind counters and tests).
constexpr size_t pg_error_kind_count
  = static_cast<size_t>(pg_error_kind::other) + 1;

/// The stable token for `x` ("serialization_failure", ...).
std::string_view to_string(pg_error_kind x);

/// The kind of a five-character SQLSTATE; other for an unknown or
/// malformed one, none for "00000".
pg_error_kind classify_sqlstate(std::string_view sqlstate);

/// The SQLSTATE embedded in a connection error message written with
/// PQERRORS_SQLSTATE verbosity ("... failed: FATAL:  28P01"), or "" when
/// the message carries none (a client-side failure). Reads only the code.
std::string_view sqlstate_of_message(std::string_view message);

/// Classifies a failed statement: its SQLSTATE when it has one; without
/// one (libpq's own errors), connection_lost when `conn` is no longer
/// CONNECTION_OK, protocol otherwise. `conn` may be null.
pg_error_kind classify(const pg_result* result, const pg_conn* conn);

/// Classifies a failed connect: the server's SQLSTATE when it refused us,
/// auth_failed when it wanted a password the URI lacks, connect_failed for
/// every client-side failure.
pg_error_kind classify_connect(const pg_conn* conn);

/// Serialization failures and deadlocks: retry the transaction (soon).
bool is_conflict(pg_error_kind x);

/// Kinds where a new connection may succeed: close, back off, retry.
bool is_transient(pg_error_kind x);

/// The errc a failure of kind `x` is reported as:
///   cold_unavailable  connection_lost, connect_failed, io_timeout,
///                     admin_shutdown, too_many_connections, read_only;
///   timeout           statement_timeout, lock_timeout;
///   invalid_config    auth_failed, insufficient_privilege,
///                     undefined_object, invalid_database, schema_mismatch;
///   cold_error        everything else (conflicts that outlived their
///                     retries included).
errc to_errc(pg_error_kind x);

/// What an operator should do about `x`, one short clause ("" for none).
std::string_view hint(pg_error_kind x);

} // namespace authstore
