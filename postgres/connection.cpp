// connection.cpp -- libpq in non-blocking mode with poll() deadlines
// (design and guarantees in the header).
#include "postgres/connection.hpp"

#include <algorithm>
#include <cerrno>

#include <poll.h>

namespace authstore {

namespace {

// A failed batch that left a transaction open is rolled back within this
// bound (after the batch's own deadline may have passed); past it the
// connection is closed instead, which rolls back too.
constexpr std::chrono::milliseconds rollback_timeout{1000};

using clock = pg_connection::clock;

// Waits until `fd` is ready for `events` or `deadline` passes.
pg_error_kind wait_for(int fd, short events, clock::time_point deadline) {
  if (fd < 0)
    return pg_error_kind::connection_lost;
  for (;;) {
    auto left
      = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0)
      return pg_error_kind::io_timeout;
    pollfd p{fd, events, 0};
    int n = ::poll(
      &p, 1, static_cast<int>(std::min<int64_t>(left.count(), INT32_MAX)));
    if (n > 0)
      return pg_error_kind::none; // readable, writable, or an error to read
    if (n < 0 && errno != EINTR)
      return pg_error_kind::connection_lost;
  }
}

void ignore_notice(void*, const char*) {
  // Notices ("relation already exists, skipping") are not errors, and the
  // store never prints server text.
}

std::vector<const char*> c_strings(const std::vector<std::string>& xs) {
  std::vector<const char*> out;
  for (const auto& x : xs)
    out.push_back(x.c_str());
  out.push_back(nullptr);
  return out;
}

} // namespace

// -- conninfo ----------------------------------------------------------------

std::string pg_conninfo::get(const std::string& keyword) const {
  for (size_t i = 0; i < keywords.size(); ++i)
    if (keywords[i] == keyword)
      return values[i];
  return {};
}

void pg_conninfo::set_default(const std::string& keyword,
                              const std::string& value) {
  for (const auto& k : keywords)
    if (k == keyword)
      return;
  keywords.push_back(keyword);
  values.push_back(value);
}

outcome<pg_conninfo> parse_conninfo(const std::string& uri) {
  // Only the URI form: the cold-store URI's scheme selects the backend, and
  // a key=value string would have none.
  if (uri.rfind("postgresql://", 0) != 0 && uri.rfind("postgres://", 0) != 0)
    return failure{errc::invalid_config,
                   "postgres uri: the scheme must be postgresql:// or "
                   "postgres://"};
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(uri.c_str(), &err);
  if (!opts) {
    // err quotes the URI (it may hold a password): freed, never shown.
    PQfreemem(err);
    return failure{errc::invalid_config, "postgres uri: malformed"};
  }
  pg_conninfo info;
  for (auto* o = opts; o->keyword; ++o) {
    if (!o->val)
      continue;
    info.keywords.emplace_back(o->keyword);
    info.values.emplace_back(o->val);
  }
  PQconninfoFree(opts);
  return info;
}

// -- statements --------------------------------------------------------------

pg_statement prepared(const char* name, std::vector<pg_param> params) {
  pg_statement s;
  s.kind = pg_statement::op::execute;
  s.name = name;
  s.params = std::move(params);
  return s;
}

pg_statement sql(const char* text, std::vector<pg_param> params) {
  pg_statement s;
  s.kind = pg_statement::op::execute_sql;
  s.sql = text;
  s.params = std::move(params);
  return s;
}

// -- the connection ----------------------------------------------------------

pg_connection::~pg_connection() {
  close();
}

void pg_connection::close() {
  if (conn_)
    PQfinish(conn_);
  conn_ = nullptr;
}

bool pg_connection::is_open() const {
  return conn_ && PQstatus(conn_) == CONNECTION_OK;
}

pg_error_kind pg_connection::connect(const pg_conninfo& info,
                                     clock::time_point deadline, bool pipeline,
                                     std::string* sqlstate) {
  close();
  auto keys = c_strings(info.keywords);
  auto values = c_strings(info.values);
  conn_ = PQconnectStartParams(keys.data(), values.data(), 0);
  auto fail = [&](pg_error_kind kind) {
    if (sqlstate && conn_)
      *sqlstate = std::string(sqlstate_of_message(PQerrorMessage(conn_)));
    close();
    return kind;
  };
  if (!conn_ || PQstatus(conn_) == CONNECTION_BAD)
    return fail(classify_connect(conn_));
  // Before the first PQconnectPoll: the server's refusal is read there, and
  // must be rendered as its SQLSTATE only.
  PQsetErrorVerbosity(conn_, PQERRORS_SQLSTATE);
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  auto status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED)
      return fail(classify_connect(conn_));
    short events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    // The socket can change between polls (libpq tries host after host).
    auto waited = wait_for(PQsocket(conn_), events, deadline);
    if (waited == pg_error_kind::io_timeout)
      return fail(pg_error_kind::connect_failed);
    if (waited != pg_error_kind::none)
      return fail(classify_connect(conn_));
    status = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0)
    return fail(pg_error_kind::protocol);
  pipeline_ = pipeline;
  if (pipeline_ && PQenterPipelineMode(conn_) != 1)
    return fail(pg_error_kind::protocol);
  return pg_error_kind::none;
}

pg_error_kind pg_connection::send(const pg_statement& s) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  std::vector<Oid> types;
  for (const auto& p : s.params) {
    values.push_back(p.null ? nullptr : p.bytes.data());
    lengths.push_back(static_cast<int>(p.bytes.size()));
    formats.push_back(1);
    types.push_back(p.type);
  }
  int n = static_cast<int>(s.params.size());
  int sent = 0;
  switch (s.kind) {
    case pg_statement::op::execute:
      sent = PQsendQueryPrepared(conn_, s.name, n, values.data(),
                                 lengths.data(), formats.data(), 1);
      break;
    case pg_statement::op::execute_sql:
      sent = PQsendQueryParams(conn_, s.sql, n, types.data(), values.data(),
                               lengths.data(), formats.data(), 1);
      break;
    case pg_statement::op::prepare: {
      std::vector<Oid> declared(s.types.begin(), s.types.end());
      sent = PQsendPrepare(conn_, s.name, s.sql,
                           static_cast<int>(declared.size()), declared.data());
      break;
    }
  }
  return sent == 1 ? pg_error_kind::none : classify(nullptr, conn_);
}

pg_error_kind pg_connection::flush(clock::time_point deadline) {
  for (;;) {
    int r = PQflush(conn_);
    if (r == 0)
      return pg_error_kind::none;
    if (r < 0)
      return pg_error_kind::connection_lost;
    // Not all sent: wait until the socket takes more, reading what the
    // server sends meanwhile so that neither side blocks the other.
    auto waited = wait_for(PQsocket(conn_), POLLIN | POLLOUT, deadline);
    if (waited != pg_error_kind::none)
      return waited;
    if (PQconsumeInput(conn_) != 1)
      return pg_error_kind::connection_lost;
  }
}

pg_error_kind pg_connection::next_result(clock::time_point deadline,
                                         pg_result_ptr& out) {
  while (PQisBusy(conn_)) {
    auto waited = wait_for(PQsocket(conn_), POLLIN, deadline);
    if (waited != pg_error_kind::none)
      return waited;
    if (PQconsumeInput(conn_) != 1)
      return pg_error_kind::connection_lost;
  }
  out.reset(PQgetResult(conn_));
  return pg_error_kind::none;
}

void pg_connection::record(pg_batch_result& out, size_t at, const PGresult* r) {
  if (!out.ok())
    return;
  out.kind = classify(r, conn_);
  out.failed_at = at;
  if (const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr)
    out.sqlstate = state;
}

void pg_connection::run_pipelined(const std::vector<pg_statement>& batch,
                                  clock::time_point deadline,
                                  pg_batch_result& out) {
  for (const auto& s : batch) {
    if (auto k = send(s); k != pg_error_kind::none) {
      out.kind = k;
      out.failed_at = batch.size();
      return;
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    out.kind = classify(nullptr, conn_);
    out.failed_at = batch.size();
    return;
  }
  if (auto k = flush(deadline); k != pg_error_kind::none) {
    out.kind = k;
    out.failed_at = batch.size();
    return;
  }
  // Per statement: one result, then the null that ends it. Then the sync.
  for (size_t i = 0; i <= batch.size(); ++i) {
    pg_result_ptr r;
    auto k = next_result(deadline, r);
    if (k == pg_error_kind::none && !r)
      k = classify(nullptr, conn_); // the connection broke mid-batch
    if (k != pg_error_kind::none) {
      if (out.ok()) {
        out.kind = k;
        out.failed_at = i;
      }
      return;
    }
    auto status = PQresultStatus(r.get());
    if (i == batch.size()) {
      if (status != PGRES_PIPELINE_SYNC && out.ok()) {
        out.kind = pg_error_kind::protocol;
        out.failed_at = i;
      }
      return;
    }
    if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE
        || status == PGRES_NONFATAL_ERROR)
      record(out, i, r.get());
    out.results.push_back(std::move(r));
    pg_result_ptr end;
    k = next_result(deadline, end);
    if (k != pg_error_kind::none || end) {
      if (out.ok()) {
        out.kind = k != pg_error_kind::none ? k : pg_error_kind::protocol;
        out.failed_at = i;
      }
      return;
    }
  }
}

void pg_connection::run_serial(const std::vector<pg_statement>& batch,
                               clock::time_point deadline,
                               pg_batch_result& out) {
  for (size_t i = 0; i < batch.size(); ++i) {
    auto k = send(batch[i]);
    if (k == pg_error_kind::none)
      k = flush(deadline);
    pg_result_ptr r;
    if (k == pg_error_kind::none)
      k = next_result(deadline, r);
    if (k == pg_error_kind::none && !r)
      k = classify(nullptr, conn_);
    if (k != pg_error_kind::none) {
      out.kind = k;
      out.failed_at = i;
      return;
    }
    auto status = PQresultStatus(r.get());
    bool failed = status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK;
    if (failed)
      record(out, i, r.get());
    out.results.push_back(std::move(r));
    // Drain to the terminating null (a statement has one result here).
    for (pg_result_ptr extra;;) {
      k = next_result(deadline, extra);
      if (k != pg_error_kind::none) {
        if (out.ok()) {
          out.kind = k;
          out.failed_at = i;
        }
        return;
      }
      if (!extra)
        break;
    }
    if (failed)
      return;
  }
}

void pg_connection::roll_back_if_needed() {
  if (!is_open())
    return;
  auto tx = PQtransactionStatus(conn_);
  if (tx == PQTRANS_IDLE)
    return;
  if (tx == PQTRANS_INTRANS || tx == PQTRANS_INERROR) {
    pg_batch_result rb;
    static const char* const rollback = "ROLLBACK";
    auto deadline = clock::now() + rollback_timeout;
    std::vector<pg_statement> batch{sql(rollback)};
    if (pipeline_)
      run_pipelined(batch, deadline, rb);
    else
      run_serial(batch, deadline, rb);
    if (rb.ok() && PQtransactionStatus(conn_) == PQTRANS_IDLE)
      return;
  }
  close(); // PQTRANS_ACTIVE / UNKNOWN, or the rollback failed
}

pg_batch_result pg_connection::run(const std::vector<pg_statement>& batch,
                                   clock::time_point deadline) {
  pg_batch_result out;
  if (!is_open()) {
    out.kind = pg_error_kind::connection_lost;
    out.failed_at = batch.size();
    return out;
  }
  if (pipeline_)
    run_pipelined(batch, deadline, out);
  else
    run_serial(batch, deadline, out);
  if (out.ok())
    return out;
  // A timeout, a broken socket, a failure to send or sync (statements may
  // sit queued in the pipeline) or an answer out of protocol: the state of
  // the connection is unknown, and a new one is cheaper than finding out.
  if (out.kind == pg_error_kind::io_timeout
      || out.kind == pg_error_kind::connection_lost
      || out.kind == pg_error_kind::protocol || out.failed_at >= batch.size())
    close();
  else
    roll_back_if_needed();
  return out;
}

} // namespace authstore
