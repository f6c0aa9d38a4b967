// connection.hpp -- one libpq connection whose every wait has a deadline.
//
// Why: libpq's blocking calls wait as long as the kernel lets them (a
// stopped server or a silently dropped path parks the thread for minutes),
// and connect_timeout only bounds a blocking connect. The store runs on one
// detached worker thread and promised the supervisor a bounded call, so
// this class drives libpq in non-blocking mode and poll()s its socket until
// a deadline: connect, send, flush and every result wait are bounded.
//
// A batch is a list of statements run in one round trip: in pipeline mode
// (libpq 14+, any v3 server) they are all sent, followed by one Sync, and
// their results read in order; the server stops at the first error and
// answers PGRES_PIPELINE_ABORTED for the rest. Without pipelining each
// statement waits for its result before the next is sent (kept to measure
// what pipelining buys). Either way a batch that opened a transaction and
// failed is rolled back before run() returns, so the connection is idle
// again; if that is impossible the connection is closed.
//
// Guarantees:
// - After io_timeout or a broken socket the connection is closed (its
//   state is unknown); the next call reconnects. Whether a COMMIT that was
//   sent got applied is then unknown: callers must be idempotent.
// - Server notices never reach stderr (a no-op notice processor).
// - Errors are rendered with PQERRORS_SQLSTATE verbosity (error.hpp): no
//   message text, hence no values, is ever read from the server.
// Not thread-safe: one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include "messages/errors.hpp"
#include "postgres/error.hpp"
#include "postgres/wire.hpp"

namespace authstore {

/// Frees a PGresult.
struct pg_result_deleter {
  void operator()(PGresult* x) const { PQclear(x); }
};

/// An owned PGresult.
using pg_result_ptr = std::unique_ptr<PGresult, pg_result_deleter>;

/// Connection parameters: libpq keywords and values, parsed and checked.
struct pg_conninfo {
  std::vector<std::string> keywords;
  std::vector<std::string> values;

  /// The value of `keyword`, or "" when unset.
  std::string get(const std::string& keyword) const;
  /// Sets `keyword` unless the URI set it.
  void set_default(const std::string& keyword, const std::string& value);
};

/// Parses a postgresql:// (or postgres://) URI with PQconninfoParse. Fails
/// with invalid_config (never quoting the URI: it may carry a password) on
/// another scheme or a malformed URI.
outcome<pg_conninfo> parse_conninfo(const std::string& uri);

/// One statement of a batch.
struct pg_statement {
  enum class op : uint8_t {
    /// Run the prepared statement `name` with `params`.
    execute,
    /// Run `sql` unnamed with `params` (BEGIN, COMMIT, one-off queries).
    execute_sql,
    /// Prepare `sql` as `name` with parameter types `types`.
    prepare,
  };
  op kind = op::execute;
  /// Must outlive run(); usually a string literal or the store's SQL.
  const char* name = "";
  const char* sql = "";
  std::vector<pg_param> params;
  std::vector<uint32_t> types;
};

/// An execute of prepared statement `name`.
pg_statement prepared(const char* name, std::vector<pg_param> params = {});

/// An unnamed execute of `sql` (which must outlive the call).
pg_statement sql(const char* text, std::vector<pg_param> params = {});

/// What a batch gave.
struct pg_batch_result {
  /// The first failure, none when every statement succeeded.
  pg_error_kind kind = pg_error_kind::none;
  /// Its SQLSTATE ("" for client-side failures).
  std::string sqlstate;
  /// Index of the failing statement (statements.size() for a failure of
  /// the batch as a whole: connect, send, sync).
  size_t failed_at = 0;
  /// One result per statement that answered, in order.
  std::vector<pg_result_ptr> results;

  bool ok() const { return kind == pg_error_kind::none; }
};

class pg_connection {
public:
  using clock = std::chrono::steady_clock;

  pg_connection() = default;
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// Opens a new connection (closing any old one) before `deadline`, in
  /// pipeline mode when `pipeline`. On failure the kind says why
  /// (classify_connect) and `sqlstate` the server's code, if any.
  pg_error_kind connect(const pg_conninfo& info, clock::time_point deadline,
                        bool pipeline, std::string* sqlstate = nullptr);

  /// Runs `batch` (see the file comment); results are in binary format.
  pg_batch_result run(const std::vector<pg_statement>& batch,
                      clock::time_point deadline);

  /// Closes the connection (idempotent).
  void close();

  /// Whether a connection is open and usable.
  bool is_open() const;

  /// The raw connection, or null (for PQserverVersion and the like).
  PGconn* native() const { return conn_; }

private:
  pg_error_kind send(const pg_statement& s);
  pg_error_kind flush(clock::time_point deadline);
  pg_error_kind next_result(clock::time_point deadline, pg_result_ptr& out);
  void run_pipelined(const std::vector<pg_statement>& batch,
                     clock::time_point deadline, pg_batch_result& out);
  void run_serial(const std::vector<pg_statement>& batch,
                  clock::time_point deadline, pg_batch_result& out);
  void record(pg_batch_result& out, size_t at, const PGresult* r);
  void roll_back_if_needed();

  PGconn* conn_ = nullptr;
  bool pipeline_ = false;
};

} // namespace authstore
