// store.cpp -- pg_store over pg_connection (model and guarantees in the
// header; the SQL of every statement is below, prepared once per
// connection).
//
// Design: every data call builds one batch (BEGIN ... COMMIT) and hands it
// to call(), the one retry loop: it (re)connects and prepares when the
// connection is gone, runs the batch in one round trip, and on failure
// retries by kind (error.hpp: conflicts after a short pause, transient
// kinds after closing and a doubling backoff), all within the call's
// budget. Every batch is idempotent, so repeating one whose COMMIT answer
// was lost is safe. Failures are counted in two places: the store's own
// stats() (tests) and the engine's cold_store_counters (metrics).
//
// Size: about 450 lines, above the ~400-line aim; a fifth of it is the SQL
// of the prepared statements, kept beside the code that binds their
// parameters by position (a coupling the compiler cannot check).
#include "postgres/store.hpp"

#include <cstdlib>
#include <map>
#include <thread>

#include "postgres/connection.hpp"
#include "postgres/rows.hpp"
#include "postgres/schema.hpp"
#include "postgres/wire.hpp"

namespace authstore {

namespace {

using clock = pg_connection::clock;

// The prepared statements: name, SQL ({schema} substituted at open), and
// parameter types. Row locks are taken in one order everywhere: the
// session row (erase mark) before field rows, field rows in name order.
struct statement_def {
  const char* name;
  const char* sql;
  std::vector<uint32_t> types;
};

const statement_def statement_defs[] = {
  {"as_timeout",
   "SELECT set_config('statement_timeout', $1, true)",
   {pg_oid::text}},
  // The erase mark of a versioned delete at D: $max semantics, upserted.
  {"as_erase_mark",
   "INSERT INTO {schema}.sessions AS s (sid, v, dv) VALUES ($1, $2, $2)"
   " ON CONFLICT (sid) DO UPDATE SET v = GREATEST(s.v, excluded.v),"
   " dv = GREATEST(s.dv, excluded.dv)",
   {pg_oid::text, pg_oid::int8}},
  {"as_erase_fields_upto",
   "DELETE FROM {schema}.fields WHERE sid = $1 AND v <= $2",
   {pg_oid::text, pg_oid::int8}},
  {"as_erase_session",
   "DELETE FROM {schema}.sessions WHERE sid = $1",
   {pg_oid::text}},
  {"as_erase_fields",
   "DELETE FROM {schema}.fields WHERE sid = $1",
   {pg_oid::text}},
  // Every field of a persist in one statement. A NULL val is a tombstone.
  // Nothing is written when a delete at or above V is recorded: the rows
  // would be hidden by dv anyway, and would only pile up.
  {"as_upsert_fields",
   "INSERT INTO {schema}.fields AS f (sid, field, v, val)"
   " SELECT $1, u.field, $2, u.val"
   " FROM unnest($3::text[], $4::bytea[]) AS u(field, val)"
   " WHERE NOT EXISTS (SELECT 1 FROM {schema}.sessions s"
   "                   WHERE s.sid = $1 AND s.dv >= $2)"
   " ON CONFLICT (sid, field) DO UPDATE SET v = excluded.v, val = excluded.val"
   " WHERE f.v < excluded.v",
   {pg_oid::text, pg_oid::int8, pg_oid::text_array, pg_oid::bytea_array}},
  {"as_watermark",
   "INSERT INTO {schema}.sessions AS s (sid, v) VALUES ($1, $2)"
   " ON CONFLICT (sid) DO UPDATE SET v = excluded.v WHERE s.v < excluded.v",
   {pg_oid::text, pg_oid::int8}},
  // One statement, one snapshot: the session row (field NULL), then every
  // live field row above the delete mark. The rows of both loads are
  // decoded by read_load_rows (postgres/rows.hpp), which relies on this
  // column order.
  {"as_load",
   "SELECT s.v, s.dv, NULL::text, NULL::bigint, NULL::bytea"
   " FROM {schema}.sessions s WHERE s.sid = $1"
   " UNION ALL"
   " SELECT NULL, NULL, f.field, f.v, f.val FROM {schema}.fields f"
   " WHERE f.sid = $1 AND f.val IS NOT NULL AND f.v > COALESCE("
   "  (SELECT dv FROM {schema}.sessions WHERE sid = $1), 0)",
   {pg_oid::text}},
};

const char* const begin_write = "BEGIN ISOLATION LEVEL READ COMMITTED";
const char* const begin_read
  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const char* const commit = "COMMIT";
const char* const ping_sql = "SELECT 1";
// At start: a standby, or a server (or role) whose transactions default to
// read-only, cannot take a persist.
const char* const read_only_sql
  = "SELECT pg_is_in_recovery()"
    " OR current_setting('transaction_read_only') = 'on'";

bool committed(const pg_batch_result& r) {
  return !r.results.empty()
         && std::string_view(PQcmdStatus(r.results.back().get())) == "COMMIT";
}

} // namespace

struct pg_store::impl {
  pg_store_config cfg;
  pg_conninfo info;
  pg_connection conn;
  // Set once this connection's statements are prepared.
  bool ready = false;
  std::vector<std::string> statement_sql;
  std::vector<pg_statement> prepare_batch;
  std::string timeout_ms;
  // cfg.connect_timeout, or the URI's connect_timeout (seconds) if set.
  std::chrono::milliseconds connect_timeout{0};
  pg_error_kind last = pg_error_kind::none;
  pg_store_stats stats;
  // End of the current data call's budget (time_point::max(): none).
  clock::time_point budget_end = clock::time_point::max();

  clock::time_point capped(clock::time_point t) const {
    return std::min(t, budget_end);
  }

  clock::time_point round_trip_deadline() const {
    return capped(clock::now() + cfg.call_timeout + cfg.reply_margin);
  }

  clock::time_point connect_deadline() const {
    return capped(clock::now() + connect_timeout);
  }

  // One failed attempt of kind `k`, in both sets of counters.
  void count(pg_error_kind k) {
    ++stats.errors[static_cast<size_t>(k)];
    if (cfg.counters)
      cfg.counters->failed(static_cast<size_t>(k));
  }

  void count_retry(bool conflict) {
    ++(conflict ? stats.conflict_retries : stats.transient_retries);
    if (cfg.counters)
      (conflict ? cfg.counters->conflict_retries
                : cfg.counters->transient_retries)
        .fetch_add(1, std::memory_order_relaxed);
  }

  failure fail(std::string_view op, pg_error_kind kind,
               const std::string& sqlstate, int attempts) {
    last = kind;
    std::string detail(op);
    detail += ": ";
    detail += to_string(kind);
    if (!sqlstate.empty())
      detail += " (sqlstate " + sqlstate + ")";
    detail += " after " + std::to_string(attempts) + " attempt(s)";
    if (!hint(kind).empty())
      detail += "; " + std::string(hint(kind));
    return failure{to_errc(kind), std::move(detail)};
  }

  // A new connection, without prepared statements (init migrates first).
  pg_batch_result connect() {
    ready = false;
    pg_batch_result r;
    r.kind = conn.connect(info, connect_deadline(), cfg.pipeline, &r.sqlstate);
    ++stats.connects;
    if (cfg.counters)
      cfg.counters->connects.fetch_add(1, std::memory_order_relaxed);
    return r;
  }

  pg_batch_result prepare() {
    auto r = conn.run(prepare_batch, round_trip_deadline());
    ready = r.ok();
    return r;
  }

  pg_batch_result connect_and_prepare() {
    auto r = connect();
    return r.ok() ? prepare() : std::move(r);
  }

  // Whether another attempt may start: the budget has time left.
  bool time_left() const { return clock::now() < budget_end; }

  // The retry loop (file comment). On success the batch's results.
  outcome<pg_batch_result> call(std::string_view op,
                                const std::vector<pg_statement>& batch) {
    budget_end = cfg.call_budget.count() > 0 ? clock::now() + cfg.call_budget
                                             : clock::time_point::max();
    auto backoff = cfg.retry_backoff;
    int transient = 0, conflicts = 0;
    for (int attempt = 1;; ++attempt) {
      pg_batch_result r;
      if (!ready || !conn.is_open())
        r = connect_and_prepare();
      if (r.ok())
        r = conn.run(batch, round_trip_deadline());
      if (r.ok()) {
        last = pg_error_kind::none;
        return r;
      }
      count(r.kind);
      if (is_conflict(r.kind) && conflicts < cfg.max_conflict_retries
          && time_left()) {
        ++conflicts;
        count_retry(true);
        std::this_thread::sleep_for(cfg.conflict_backoff * conflicts);
        continue;
      }
      if (is_transient(r.kind)) {
        // The next attempt (or the next call) starts on a new connection.
        conn.close();
        ready = false;
        if (transient < cfg.max_retries && time_left()) {
          ++transient;
          count_retry(false);
          std::this_thread::sleep_for(backoff);
          backoff *= 2;
          continue;
        }
      }
      return fail(op, r.kind, r.sqlstate, attempt);
    }
  }

  pg_statement with_timeout() const {
    return prepared("as_timeout", {text_param(timeout_ms)});
  }

  std::vector<pg_statement> persist_batch(const persist_request& req) const;
  outcome<session_snapshot> read(const std::string& sid);
  outcome<schema_report> init();
};

std::vector<pg_statement>
pg_store::impl::persist_batch(const persist_request& req) const {
  auto sid = [&] {
    return text_param(req.session_id);
  };
  auto version = static_cast<int64_t>(req.version);
  std::vector<pg_statement> b{sql(begin_write), with_timeout()};
  if (req.erase && req.erase_version > 0) {
    auto d = static_cast<int64_t>(req.erase_version);
    b.push_back(prepared("as_erase_mark", {sid(), int8_param(d)}));
    b.push_back(prepared("as_erase_fields_upto", {sid(), int8_param(d)}));
  } else if (req.erase) {
    b.push_back(prepared("as_erase_session", {sid()}));
    b.push_back(prepared("as_erase_fields", {sid()}));
  }
  bool erase_only = req.erase && req.fields.empty();
  if (!erase_only) {
    // One row per field, the last write of a field winning (ON CONFLICT
    // may touch a row once per statement), in name order (lock order).
    std::map<std::string_view, const field_write*> latest;
    for (const auto& w : req.fields)
      latest[w.field] = &w;
    if (!latest.empty()) {
      std::vector<std::string_view> names;
      std::vector<const std::string*> values;
      for (const auto& [name, w] : latest) {
        names.push_back(name);
        values.push_back(w->erase ? nullptr : &w->value);
      }
      b.push_back(prepared("as_upsert_fields",
                           {sid(), int8_param(version), text_array_param(names),
                            bytea_array_param(values)}));
    }
    // An erase without fields needs no watermark: the mark set v = D, or
    // the unconditional erase removed the row.
    b.push_back(prepared("as_watermark", {sid(), int8_param(version)}));
  }
  b.push_back(sql(commit));
  return b;
}

outcome<session_snapshot> pg_store::impl::read(const std::string& sid) {
  auto r = call("load", {sql(begin_read), with_timeout(),
                         prepared("as_load", {text_param(sid)}), sql(commit)});
  if (!r)
    return r.error();
  session_snapshot snap;
  if (!read_load_rows(r->results[2].get(), snap))
    return fail("load", pg_error_kind::protocol, "", 1);
  return snap;
}

// -- public interface --------------------------------------------------------

pg_store::pg_store(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

pg_store::~pg_store() = default;

outcome<std::unique_ptr<pg_store>> pg_store::open(const pg_store_config& cfg) {
  auto info = parse_conninfo(cfg.uri);
  if (!info)
    return info.error();
  if (!is_valid_schema_name(cfg.schema))
    return failure{
      errc::invalid_config,
      "postgres schema: the name must match [a-z_][a-z0-9_]{0,62}"};
  if (cfg.call_timeout.count() <= 0 || cfg.reply_margin.count() < 0
      || cfg.connect_timeout.count() <= 0 || cfg.init_timeout.count() <= 0)
    return failure{errc::invalid_config, "postgres timeouts: out of range"};
  if (cfg.max_retries < 0 || cfg.max_conflict_retries < 0
      || cfg.retry_backoff.count() < 0 || cfg.conflict_backoff.count() < 0)
    return failure{errc::invalid_config, "postgres retries: negative"};
  auto x = std::make_unique<impl>();
  x->cfg = cfg;
  x->info = std::move(*info);
  // Text parameters are sent as UTF-8 bytes and must arrive unconverted.
  auto encoding = x->info.get("client_encoding");
  if (!encoding.empty() && encoding != "UTF8" && encoding != "utf8")
    return failure{errc::invalid_config,
                   "postgres uri: client_encoding must be UTF8"};
  x->info.set_default("client_encoding", "UTF8");
  x->info.set_default("application_name", "authstore");
  x->timeout_ms = std::to_string(cfg.call_timeout.count());
  x->connect_timeout = cfg.connect_timeout;
  if (auto seconds = x->info.get("connect_timeout"); !seconds.empty()) {
    char* end = nullptr;
    long n = std::strtol(seconds.c_str(), &end, 10);
    if (*end != '\0' || n < 0 || n > 3600)
      return failure{errc::invalid_config,
                     "postgres uri: connect_timeout must be 0..3600 seconds"};
    // 0 means "wait for ever" to libpq; a worker must not: the default.
    if (n > 0)
      x->connect_timeout = std::chrono::seconds(n);
  }
  for (const auto& def : statement_defs)
    x->statement_sql.push_back(with_schema(def.sql, cfg.schema));
  // Built after statement_sql is complete: the batch points into it.
  for (size_t i = 0; i < std::size(statement_defs); ++i) {
    pg_statement s;
    s.kind = pg_statement::op::prepare;
    s.name = statement_defs[i].name;
    s.sql = x->statement_sql[i].c_str();
    s.types = statement_defs[i].types;
    x->prepare_batch.push_back(std::move(s));
  }
  return std::unique_ptr<pg_store>(new pg_store(std::move(x)));
}

outcome<schema_report> pg_store::impl::init() {
  // Not under a data call's budget: a migration's DDL may take longer.
  budget_end = clock::time_point::max();
  auto r = connect();
  if (!r.ok()) {
    count(r.kind);
    return fail("init connect", r.kind, r.sqlstate, 1);
  }
  pg_error_kind kind = pg_error_kind::none;
  auto init_deadline = [&] {
    return clock::now() + cfg.init_timeout;
  };
  auto schema = migrate(conn, cfg.schema, cfg.migrate, init_deadline(), &kind);
  if (!schema) {
    count(kind);
    last = kind;
    return schema.error();
  }
  r = conn.run({sql(read_only_sql)}, init_deadline());
  bool read_only = false;
  if (r.ok() && !read_bool(r.results[0].get(), 0, 0, read_only))
    r.kind = pg_error_kind::protocol;
  if (r.ok() && read_only)
    r.kind = pg_error_kind::read_only;
  if (r.ok())
    r = prepare();
  if (!r.ok()) {
    count(r.kind);
    return fail("init", r.kind, r.sqlstate, 1);
  }
  last = pg_error_kind::none;
  return *schema;
}

std::string_view pg_store::backend() const {
  return backend_name;
}

outcome<bool> pg_store::prepare() {
  auto r = impl_->init();
  if (!r)
    return r.error();
  return true;
}

outcome<schema_report> pg_store::prepare_schema() {
  return impl_->init();
}

outcome<uint64_t> pg_store::persist(const persist_request& req) {
  // mongo_store's checks, the one statement of them, before anything is
  // sent.
  if (auto ok = validate_persist(req); !ok)
    return ok.error();
  auto r = impl_->call("persist", impl_->persist_batch(req));
  if (!r)
    return r.error();
  if (!committed(*r))
    return impl_->fail("persist", pg_error_kind::protocol, "", 1);
  return req.version;
}

outcome<session_snapshot> pg_store::load(const std::string& sid) {
  return impl_->read(sid);
}

outcome<bool> pg_store::ping() {
  auto& x = *impl_;
  x.budget_end = clock::time_point::max();
  pg_batch_result r;
  if (!x.ready || !x.conn.is_open())
    r = x.connect_and_prepare();
  if (r.ok())
    r = x.conn.run({sql(ping_sql)}, x.round_trip_deadline());
  if (!r.ok()) {
    x.count(r.kind);
    if (is_transient(r.kind))
      x.conn.close();
    return x.fail("ping", r.kind, r.sqlstate, 1);
  }
  x.last = pg_error_kind::none;
  return true;
}

pg_error_kind pg_store::last_error_kind() const {
  return impl_->last;
}

const pg_store_stats& pg_store::stats() const {
  return impl_->stats;
}

} // namespace authstore
