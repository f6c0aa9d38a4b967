// pg_fixture.hpp -- a pg_store on a fresh schema of a PostgreSQL server,
// dropped afterwards. Header-only test scaffolding (needs Catch2 included
// first: the constructor REQUIREs a working store).
#pragma once

#include <memory>
#include <string>

#include "postgres/store.hpp"
#include "tests/postgres/pg_server.hpp"

namespace authstore::test {

/// The config of a store on `server`'s schema `schema`. The timeouts are
/// generous: the suite runs beside others on 2 loaded cores, and a case
/// that wants a timeout sets its own short one.
inline pg_store_config pg_test_config(const pg_server& server,
                                      const std::string& schema) {
  pg_store_config cfg;
  cfg.uri = server.uri();
  cfg.schema = schema;
  cfg.call_timeout = std::chrono::milliseconds{10000};
  cfg.connect_timeout = std::chrono::milliseconds{5000};
  return cfg;
}

/// Opens a store with `cfg`; null (and a Catch2 failure) when open fails.
inline std::unique_ptr<pg_store> open_pg_store(const pg_store_config& cfg) {
  auto store = pg_store::open(cfg);
  if (!store)
    FAIL("pg_store::open: " << store.error().render());
  return std::move(*store);
}

/// A store on a new schema of the shared server (or `server`), created by
/// prepare() and dropped by the destructor; `pipeline` as in pg_store_config.
class pg_fixture {
public:
  explicit pg_fixture(pg_server* server = nullptr, bool pipeline = true) {
    std::string why;
    server_ = server ? server : shared_pg_server(&why);
    if (!server_)
      FAIL("no PostgreSQL server: " << why);
    schema_ = fresh_schema();
    cfg_ = pg_test_config(*server_, schema_);
    cfg_.pipeline = pipeline;
    store_ = open_pg_store(cfg_);
    auto ready = store_->prepare();
    if (!ready)
      FAIL("pg_store::prepare: " << ready.error().render());
  }

  ~pg_fixture() {
    store_.reset();
    if (server_->is_running())
      server_->exec("DROP SCHEMA IF EXISTS \"" + schema_ + "\" CASCADE");
  }

  pg_store& store() { return *store_; }
  pg_server& server() { return *server_; }
  const std::string& schema() const { return schema_; }
  const pg_store_config& config() const { return cfg_; }

private:
  pg_server* server_ = nullptr;
  std::string schema_;
  pg_store_config cfg_;
  std::unique_ptr<pg_store> store_;
};

} // namespace authstore::test
