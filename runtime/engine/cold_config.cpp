// cold_config.cpp -- the cold store of the settings: which backend a URI
// selects, its store's configuration, the supervisor's, and preparing it
// before a node serves (engine.hpp: prepare_cold_store; engine_impl.hpp:
// make_cold_config).
//
// Why one file: everything that names a backend outside its own folder is
// here. The supervisor and the workers never see a backend; they run the
// opener this file makes (docs/ARCHITECTURE.md, "Cold stores").
//
// PostgreSQL's time bounds derive from cold.call-timeout-ms (T): the whole
// store call (reconnects and retries included) ends within T, when the
// supervisor stops waiting; statement_timeout is T minus a fifth of T (at
// most 500 ms), so a statement the server cannot finish fails with its
// own clean timeout (57014) before that; the client-side deadline of one
// round trip is statement_timeout + that margin, i.e. T.
#include "runtime/engine/engine_impl.hpp"

#include <algorithm>

#include "actors/cold_supervisor.hpp"
#include "actors/cold_worker.hpp"
#include "actors/cold_worker_pool.hpp"
#include "messages/timing.hpp"
#include "mongo/store.hpp"
#include "postgres/store.hpp"

namespace authstore {

namespace {

using std::chrono::milliseconds;

/// First wait before restarting a crashed cold worker (the config sets
/// only the cap): short, because a crash is usually a one-off.
constexpr milliseconds cold_restart_backoff_base{100};

/// Most of the margin between statement_timeout and the call's end.
constexpr milliseconds max_statement_margin{500};

mongo_store_config mongo_config(const settings& cfg,
                                cold_store_counters* counters) {
  mongo_store_config mc;
  mc.uri = cfg.cold_store_uri();
  mc.database = cfg.mongodb_database();
  mc.write_w = cfg.mongodb_write_concern();
  mc.write_journal = cfg.mongodb_write_journal();
  mc.counters = counters;
  return mc;
}

pg_store_config pg_config(const settings& cfg, cold_store_counters* counters,
                          migrate_mode migrate) {
  pg_store_config pc;
  pc.uri = cfg.cold_store_uri();
  pc.schema = cfg.postgresql_schema();
  auto call = cfg.cold_call_timeout_ms();
  auto margin = std::min(call / 5, max_statement_margin);
  pc.call_timeout = call - margin;
  pc.reply_margin = margin;
  pc.call_budget = call;
  pc.migrate = migrate;
  pc.counters = counters;
  return pc;
}

/// cold.migrate's mode (the loader checked the token).
migrate_mode configured_migrate(const settings& cfg) {
  return migrate_mode_of(cfg.cold_migrate()).value_or(migrate_mode::check);
}

} // namespace

outcome<cold_store_opener> make_cold_opener(const settings& cfg,
                                            cold_store_counters* counters,
                                            std::string* backend) {
  // Each opener is checked once here, on the caller's thread: open() only
  // parses, so a bad URI or bound fails start instead of every later call.
  switch (cfg.cold_store_backend()) {
    case cold_backend::mongodb: {
      auto mc = mongo_config(cfg, counters);
      auto probe = mongo_store::open(mc);
      if (!probe)
        return probe.error();
      if (backend)
        *backend = std::string{(*probe)->backend()};
      return opener_of<mongo_store>(mc);
    }
    case cold_backend::postgresql: {
      auto pc = pg_config(cfg, counters, configured_migrate(cfg));
      auto probe = pg_store::open(pc);
      if (!probe)
        return probe.error();
      if (backend)
        *backend = std::string{(*probe)->backend()};
      return opener_of<pg_store>(pc);
    }
    default:
      return failure{errc::no_cold_store, "no cold store configured "
                                          "(cold.uri)"};
  }
}

outcome<cold_supervisor_config>
make_cold_config(const settings& cfg, cold_store_counters* counters) {
  cold_supervisor_config c;
  auto open = make_cold_opener(cfg, counters, &c.backend);
  if (!open)
    return open.error();
  auto& b = c.breaker;
  b.window = cfg.cold_window_s();
  b.min_calls = static_cast<uint32_t>(cfg.cold_min_calls());
  b.failure_rate_percent = static_cast<uint32_t>(cfg.cold_failure_rate_pct());
  b.consecutive_failures
    = static_cast<uint32_t>(cfg.cold_consecutive_failures());
  b.slow_call = cfg.cold_slow_call_ms();
  b.slow_call_rate_percent
    = static_cast<uint32_t>(cfg.cold_slow_call_rate_pct());
  b.open_base = cfg.cold_open_base_s();
  b.open_max = cfg.cold_open_max_s();
  b.half_open_probes = static_cast<uint32_t>(cfg.cold_half_open_probes());
  if (auto ok = validate(b); !ok)
    return ok.error();
  c.call_timeout = cfg.cold_call_timeout_ms();
  c.restart_backoff_max = cfg.cold_restart_backoff_max_ms();
  c.restart_backoff_base
    = std::min(cold_restart_backoff_base, c.restart_backoff_max);
  // One worker runs the store itself; more run behind a pool that keeps
  // each session on one of them. Either way the supervisor sees one worker
  // and opens nothing itself: each worker opens its store on its thread.
  cold_worker_factory one = [open = *open](caf::actor_system& sys) {
    return spawn_cold_worker(sys, open);
  };
  auto workers = static_cast<size_t>(cfg.cold_workers());
  if (workers <= 1) {
    c.make_worker = std::move(one);
  } else {
    cold_worker_pool_config pool;
    pool.workers = workers;
    pool.init_timeout = c.init_timeout - reply_margin;
    c.make_worker = [one, pool](caf::actor_system& sys) {
      return spawn_cold_worker_pool(sys, one, pool);
    };
  }
  return c;
}

outcome<bool> check_cold_config(const settings& cfg) {
  auto open = make_cold_opener(cfg, nullptr);
  if (!open)
    return open.error();
  return true;
}

outcome<cold_store_report> prepare_cold_store(const settings& cfg,
                                              cold_prepare how) {
  cold_store_report report;
  report.backend = std::string{to_string(cfg.cold_store_backend())};
  report.target = redact_url(cfg.cold_store_uri());
  switch (cfg.cold_store_backend()) {
    case cold_backend::mongodb: {
      // MongoDB has no schema: preparing it creates the store's index, what
      // every worker does at start too.
      auto store = mongo_store::open(mongo_config(cfg, nullptr));
      if (!store)
        return store.error();
      if (how == cold_prepare::check) {
        if (auto ok = (*store)->ping(); !ok)
          return ok.error();
        report.detail = "server answers (MongoDB has no schema to check)";
        return report;
      }
      if (auto ok = (*store)->prepare(); !ok)
        return ok.error();
      report.detail = "index by_session on collection keys of database "
                      + cfg.mongodb_database() + " ready";
      return report;
    }
    case cold_backend::postgresql: {
      auto mode = how == cold_prepare::migrate ? migrate_mode::apply
                  : how == cold_prepare::check ? migrate_mode::check
                                               : configured_migrate(cfg);
      auto store = pg_store::open(pg_config(cfg, nullptr, mode));
      if (!store)
        return store.error();
      auto schema = (*store)->prepare_schema();
      if (!schema)
        return schema.error();
      report.schema_found = schema->found;
      report.schema_now = schema->now;
      auto name = "schema \"" + cfg.postgresql_schema() + "\"";
      report.detail
        = schema->found == schema->now
            ? name + " at version " + std::to_string(schema->now)
                + " (current; nothing to do)"
          : schema->found == 0
            ? name + " created at version " + std::to_string(schema->now)
            : name + " migrated from version " + std::to_string(schema->found)
                + " to " + std::to_string(schema->now);
      report.detail += "; privileges and a writable server checked";
      return report;
    }
    default:
      return failure{errc::no_cold_store,
                     "no cold store configured: set cold.uri (--cold URI or "
                     "AUTHSTORE_COLD_URI)"};
  }
}

} // namespace authstore
