// pg_store_pgtest.cpp -- what pg_store promises beyond the shared contract,
// against a real PostgreSQL 15 (the shared private server of this process):
// the schema's version rules, privileges, the read-only mode, statement
// timeouts, deadlock retries, all-or-nothing persists, one-snapshot loads
// and byte-exact values.
#include "postgres/store.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "postgres/schema.hpp"
#include "tests/contract/cold_store_contract.hpp"
#include "tests/postgres/pg_fixture.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_store_pgtest {

using namespace authstore;
using namespace authstore::test;
using authstore::contract::del;
using authstore::contract::load;
using authstore::contract::set;

namespace {

pg_server& shared() {
  std::string why;
  auto* s = shared_pg_server(&why);
  if (!s)
    FAIL("no PostgreSQL server: " << why);
  return *s;
}

void admin(pg_server& server, const std::string& sql) {
  INFO(sql);
  if (!server.exec(sql))
    FAIL(server.last_error());
}

// A login role with password `pw` (dropped and re-created).
void make_role(pg_server& server, const std::string& role,
               const std::string& extra = "") {
  server.exec("DROP OWNED BY " + role);
  server.exec("DROP ROLE IF EXISTS " + role);
  admin(server, "CREATE ROLE " + role + " LOGIN PASSWORD 'pw' " + extra);
}

void grant_all(pg_server& server, const std::string& schema,
               const std::string& role) {
  admin(server, "GRANT USAGE ON SCHEMA \"" + schema + "\" TO " + role);
  admin(server, "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN "
                "SCHEMA \""
                  + schema + "\" TO " + role);
}

uint64_t errors_of(const pg_store& store, pg_error_kind k) {
  return store.stats().errors[static_cast<size_t>(k)];
}

// Waits (up to 10 s) until some backend waits for a lock.
bool wait_for_lock_waiter(pg_server& server) {
  for (int i = 0; i < 1000; ++i) {
    std::string n;
    if (server.exec("SELECT count(*) FROM pg_locks WHERE NOT granted", &n)
        && n != "0")
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

} // namespace

TEST_CASE("open refuses a bad URI, another scheme and a bad schema name "
          "before connecting",
          "[postgres]") {
  auto bad = [](pg_store_config cfg) {
    auto r = pg_store::open(cfg);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_config);
    // The URI (it may hold a password) is never quoted.
    CHECK(r.error().detail.find("secret") == std::string::npos);
    return r.error().detail;
  };
  pg_store_config cfg;
  cfg.uri = "mongodb://u:secret@127.0.0.1/x";
  CHECK(bad(cfg).find("scheme") != std::string::npos);
  cfg.uri = "postgresql://u:secret@127.0.0.1:notaport/x?bogus_option=1";
  bad(cfg);
  cfg.uri = "postgresql://u:secret@127.0.0.1/x?connect_timeout=soon";
  bad(cfg);
  cfg.uri = "postgresql://u:secret@127.0.0.1/x?client_encoding=LATIN1";
  bad(cfg);
  cfg.uri = "postgresql://127.0.0.1/x";
  cfg.schema = "Bad-Name";
  bad(cfg);
  cfg.schema = "authstore";
  cfg.call_timeout = std::chrono::milliseconds{0};
  bad(cfg);
  cfg.call_timeout = std::chrono::milliseconds{100};
  CHECK(pg_store::open(cfg)); // valid, and nothing is listening: no connect
}

TEST_CASE("init creates the schema at the current version, and again is a "
          "no-op",
          "[postgres]") {
  pg_fixture fx;
  std::string version;
  REQUIRE(fx.server().exec(
    "SELECT version FROM \"" + fx.schema() + "\".schema_version", &version));
  CHECK(version == std::to_string(latest_schema_version));
  REQUIRE(fx.store().persist({"s1", 1, {set("c:me", "1")}}));
  auto again = open_pg_store(fx.config());
  REQUIRE(again->prepare());
  CHECK(load(*again, "s1").fields
        == std::vector<field_write>{set("c:me", "1")});
}

TEST_CASE("a schema of a newer version is refused, naming both versions",
          "[postgres]") {
  pg_fixture fx;
  admin(fx.server(),
        "UPDATE \"" + fx.schema() + "\".schema_version SET version = 99");
  for (bool migrate : {true, false}) {
    auto cfg = fx.config();
    cfg.migrate = migrate ? migrate_mode::apply : migrate_mode::check;
    auto store = open_pg_store(cfg);
    auto r = store->prepare();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_config);
    CHECK(store->last_error_kind() == pg_error_kind::schema_mismatch);
    CHECK(r.error().detail.find("version 99") != std::string::npos);
    CHECK(
      r.error().detail.find("version " + std::to_string(latest_schema_version))
      != std::string::npos);
  }
  std::string version;
  REQUIRE(fx.server().exec(
    "SELECT version FROM \"" + fx.schema() + "\".schema_version", &version));
  CHECK(version == "99"); // nothing was changed
}

TEST_CASE("without migration allowed, init refuses a missing schema and says "
          "how to create it",
          "[postgres]") {
  auto& server = shared();
  auto cfg = pg_test_config(server, fresh_schema());
  cfg.migrate = migrate_mode::check;
  auto store = open_pg_store(cfg);
  auto r = store->prepare();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_config);
  CHECK(r.error().detail.find("version 0") != std::string::npos);
  CHECK(r.error().detail.find("authstore migrate") != std::string::npos);
  // A data call before the schema exists is a clear error too, never "not
  // found".
  auto loaded = store->load("s1");
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().code == errc::invalid_config);
  CHECK(store->last_error_kind() == pg_error_kind::undefined_object);
  cfg.migrate = migrate_mode::apply;
  REQUIRE(open_pg_store(cfg)->prepare());
  cfg.migrate = migrate_mode::check;
  CHECK(open_pg_store(cfg)->prepare());
  server.exec("DROP SCHEMA \"" + cfg.schema + "\" CASCADE");
}

TEST_CASE("stores migrating one schema at once apply it once", "[postgres]") {
  auto& server = shared();
  auto cfg = pg_test_config(server, fresh_schema());
  std::vector<std::unique_ptr<pg_store>> stores;
  for (int i = 0; i < 4; ++i)
    stores.push_back(open_pg_store(cfg));
  std::vector<std::string> results(stores.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < stores.size(); ++i)
    threads.emplace_back([&, i] {
      auto r = stores[i]->prepare();
      results[i] = r ? "ok" : r.error().render();
    });
  for (auto& t : threads)
    t.join();
  for (const auto& r : results)
    CHECK(r == "ok");
  server.exec("DROP SCHEMA \"" + cfg.schema + "\" CASCADE");
}

TEST_CASE("a role without rights is a clear error at start, not a crash and "
          "not not-found",
          "[postgres]") {
  pg_fixture fx;
  make_role(fx.server(), "as_norights");
  auto cfg = fx.config();
  cfg.uri = fx.server().uri("as_norights", "pw");
  cfg.migrate = migrate_mode::check;
  {
    auto store = open_pg_store(cfg);
    auto r = store->prepare();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_config);
    CHECK(store->last_error_kind() == pg_error_kind::insufficient_privilege);
    CHECK(r.error().detail.find("insufficient_privilege") != std::string::npos);
    auto loaded = store->load("s1");
    REQUIRE_FALSE(loaded);
    CHECK(loaded.error().code == errc::invalid_config);
  }
  // USAGE and read rights only: init names what is missing.
  admin(fx.server(),
        "GRANT USAGE ON SCHEMA \"" + fx.schema() + "\" TO as_norights");
  admin(fx.server(), "GRANT SELECT ON ALL TABLES IN SCHEMA \"" + fx.schema()
                       + "\" TO as_norights");
  {
    auto store = open_pg_store(cfg);
    auto r = store->prepare();
    REQUIRE_FALSE(r);
    CHECK(store->last_error_kind() == pg_error_kind::insufficient_privilege);
    CHECK(r.error().detail.find("INSERT") != std::string::npos);
  }
  // All rights: it works; revoked while running: the persist fails with
  // the same kind, at once (not retried).
  grant_all(fx.server(), fx.schema(), "as_norights");
  auto store = open_pg_store(cfg);
  REQUIRE(store->prepare());
  REQUIRE(store->persist({"s1", 1, {set("c:me", "1")}}));
  admin(fx.server(), "REVOKE INSERT, UPDATE ON ALL TABLES IN SCHEMA \""
                       + fx.schema() + "\" FROM as_norights");
  auto r = store->persist({"s1", 2, {set("c:me", "2")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_config);
  CHECK(r.error().detail.find("insufficient_privilege") != std::string::npos);
  CHECK(r.error().detail.find("1 attempt") != std::string::npos);
  fx.server().exec("DROP OWNED BY as_norights");
  fx.server().exec("DROP ROLE as_norights");
}

TEST_CASE("if-missing creates a schema where there is none and reports "
          "what it found; never only checks",
          "[postgres]") {
  auto& server = shared();
  auto cfg = pg_test_config(server, fresh_schema());
  cfg.migrate = migrate_mode::check;
  auto never = open_pg_store(cfg)->prepare_schema();
  REQUIRE_FALSE(never);
  CHECK(never.error().code == errc::invalid_config);
  CHECK(never.error().detail.find("authstore migrate") != std::string::npos);
  cfg.migrate = migrate_mode::create;
  auto created = open_pg_store(cfg)->prepare_schema();
  REQUIRE(created);
  CHECK(created->found == 0);
  CHECK(created->now == latest_schema_version);
  auto again = open_pg_store(cfg)->prepare_schema();
  REQUIRE(again);
  CHECK(again->found == latest_schema_version);
  CHECK(again->now == latest_schema_version);
  cfg.migrate = migrate_mode::check;
  CHECK(open_pg_store(cfg)->prepare());
  server.exec("DROP SCHEMA \"" + cfg.schema + "\" CASCADE");
  // The setting's tokens, both ways.
  for (auto m :
       {migrate_mode::check, migrate_mode::create, migrate_mode::apply})
    CHECK(migrate_mode_of(to_string(m)) == m);
  CHECK_FALSE(migrate_mode_of("sometimes"));
}

TEST_CASE("failed attempts are counted by kind for the metrics", "[postgres]") {
  pg_fixture fx;
  cold_store_counters counters;
  auto cfg = fx.config();
  cfg.uri = fx.server().uri("postgres", "", "no_such_db");
  cfg.counters = &counters;
  REQUIRE_FALSE(open_pg_store(cfg)->prepare());
  CHECK(counters.failures[static_cast<size_t>(pg_error_kind::invalid_database)]
        == 1);
  CHECK(counters.connects == 1);
  cfg.uri = fx.server().uri();
  auto store = open_pg_store(cfg);
  REQUIRE(store->persist({"s1", 1, {set("c:me", "1")}}));
  CHECK(counters.connects == 2);
  CHECK(store->backend() == "postgresql");
}

TEST_CASE("a wrong or missing password and a missing database are distinct "
          "clear errors",
          "[postgres]") {
  pg_fixture fx;
  make_role(fx.server(), "as_pw");
  auto cfg = fx.config();
  auto init_kind = [&](const std::string& uri) {
    cfg.uri = uri;
    auto store = open_pg_store(cfg);
    auto r = store->prepare();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_config);
    CHECK(r.error().detail.find(to_string(store->last_error_kind()))
          != std::string::npos);
    return store->last_error_kind();
  };
  CHECK(init_kind(fx.server().uri("as_pw", "wrong"))
        == pg_error_kind::auth_failed);
  CHECK(init_kind(fx.server().uri("as_pw")) == pg_error_kind::auth_failed);
  CHECK(init_kind(fx.server().uri("postgres", "", "no_such_db"))
        == pg_error_kind::invalid_database);
  fx.server().exec("DROP ROLE as_pw");
}

TEST_CASE("a read-only server or role is its own error: writes fail, loads "
          "still work",
          "[postgres]") {
  pg_fixture fx;
  make_role(fx.server(), "as_ro");
  grant_all(fx.server(), fx.schema(), "as_ro");
  REQUIRE(fx.store().persist({"s1", 1, {set("c:me", "1")}}));
  admin(fx.server(), "ALTER ROLE as_ro SET default_transaction_read_only = on");
  auto cfg = fx.config();
  cfg.uri = fx.server().uri("as_ro", "pw");
  cfg.retry_backoff = std::chrono::milliseconds{1};
  auto store = open_pg_store(cfg);
  auto init = store->prepare();
  REQUIRE_FALSE(init);
  CHECK(init.error().code == errc::cold_unavailable);
  CHECK(store->last_error_kind() == pg_error_kind::read_only);
  // Reads need no writes; a persist is refused with read_only, retried on
  // a new connection (a failover may have moved the primary), then failed.
  auto snap = store->load("s1");
  REQUIRE(snap);
  CHECK(snap->fields == std::vector<field_write>{set("c:me", "1")});
  auto r = store->persist({"s1", 2, {set("c:me", "2")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(r.error().detail.find("read_only (sqlstate 25006)")
        != std::string::npos);
  CHECK(errors_of(*store, pg_error_kind::read_only)
        == static_cast<uint64_t>(1 + 1 + cfg.max_retries)); // init + attempts
  CHECK(load(fx.store(), "s1").fields
        == std::vector<field_write>{set("c:me", "1")});
  fx.server().exec("DROP OWNED BY as_ro");
  fx.server().exec("DROP ROLE as_ro");
}

TEST_CASE("a statement blocked past the call timeout fails with timeout and "
          "the store stays usable",
          "[postgres]") {
  pg_fixture fx;
  REQUIRE(fx.store().persist({"s1", 1, {set("c:me", "1")}}));
  auto cfg = fx.config();
  cfg.call_timeout = std::chrono::milliseconds{300};
  auto store = open_pg_store(cfg);
  REQUIRE(store->prepare());
  pg_client blocker(fx.server().uri());
  REQUIRE(blocker.exec("BEGIN"));
  REQUIRE(blocker.exec("SELECT * FROM \"" + fx.schema()
                       + "\".sessions WHERE sid = 's1' FOR UPDATE"));
  auto r = store->persist({"s1", 2, {set("c:me", "2")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(store->last_error_kind() == pg_error_kind::statement_timeout);
  CHECK(r.error().detail.find("sqlstate 57014") != std::string::npos);
  CHECK(r.error().detail.find("1 attempt") != std::string::npos);
  // Rolled back whole: the field row was not written either.
  REQUIRE(blocker.exec("ROLLBACK"));
  CHECK(load(fx.store(), "s1")
        == session_snapshot{true, 1, {set("c:me", "1")}});
  REQUIRE(store->persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(load(*store, "s1").version == 2);
}

TEST_CASE("a deadlock victim is retried inside the call and the persist "
          "lands",
          "[postgres]") {
  pg_fixture fx;
  REQUIRE(
    fx.store().persist({"s1", 1, {set("k:a/1", "0"), set("k:b/2", "0")}}));
  auto cfg = fx.config();
  cfg.call_timeout = std::chrono::milliseconds{10000};
  auto store = open_pg_store(cfg);
  REQUIRE(store->prepare());
  pg_client other(fx.server().uri());
  const std::string fields = "\"" + fx.schema() + "\".fields";
  // The other session never detects the deadlock itself: the store's
  // transaction (waiting longer) is the victim.
  REQUIRE(other.exec("SET deadlock_timeout = '60s'"));
  REQUIRE(other.exec("BEGIN"));
  REQUIRE(
    other.exec("UPDATE " + fields + " SET val = 'x' WHERE field = 'k:b/2'"));
  // The store locks k:a/1 first (name order), then waits for k:b/2.
  outcome<uint64_t> result{errc::internal, "not run"};
  std::thread persist([&] {
    result
      = store->persist({"s1", 10, {set("k:a/1", "10"), set("k:b/2", "10")}});
  });
  // No REQUIRE until the thread is joined.
  CHECK(wait_for_lock_waiter(fx.server()));
  // Closes the cycle; returns once the store's transaction was aborted.
  bool closed
    = other.exec("UPDATE " + fields + " SET val = 'y' WHERE field = 'k:a/1'");
  INFO(other.last_error());
  CHECK(closed);
  CHECK(other.exec("COMMIT"));
  persist.join();
  REQUIRE(result);
  CHECK(*result == 10);
  // At least once. The retry starts at once and may take k:a/1 again
  // before the other session's waiting update does: the same cycle, the
  // same victim, one more retry (bounded by max_conflict_retries).
  CHECK(store->stats().conflict_retries >= 1);
  CHECK(store->stats().conflict_retries
        <= static_cast<uint64_t>(cfg.max_conflict_retries));
  CHECK(errors_of(*store, pg_error_kind::deadlock)
        == store->stats().conflict_retries);
  CHECK(
    load(fx.store(), "s1")
    == session_snapshot{true, 10, {set("k:a/1", "10"), set("k:b/2", "10")}});
}

TEST_CASE("a persist is all or nothing: a refused row leaves no field and no "
          "watermark behind",
          "[postgres][invariant-3]") {
  pg_fixture fx;
  REQUIRE(fx.store().persist({"s1", 1, {set("c:me", "1")}}));
  // "x:bad" breaks the schema's CHECK on field names, after "c:me" and
  // "k:ok/1" were upserted in the same statement.
  auto r = fx.store().persist(
    {"s1", 2, {set("c:me", "2"), set("k:ok/1", "2"), set("x:bad", "2")}});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  CHECK(fx.store().last_error_kind() == pg_error_kind::constraint_violation);
  CHECK(load(fx.store(), "s1")
        == session_snapshot{true, 1, {set("c:me", "1")}});
  // The connection is usable again at once (the transaction was rolled back).
  REQUIRE(fx.store().persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(fx.store().stats().connects == 1);
}

TEST_CASE("a load is one snapshot: never half of a concurrent persist",
          "[postgres][invariant-2]") {
  pg_fixture fx;
  auto reader = open_pg_store(fx.config());
  REQUIRE(reader->prepare());
  constexpr uint64_t versions = 300;
  std::atomic<bool> done{false};
  std::string writer_error;
  std::thread writer([&] {
    for (uint64_t v = 1; v <= versions; ++v) {
      auto value = std::to_string(v);
      // Deletes and writes in one persist: either all or none is visible.
      std::vector<field_write> w
        = {set("c:me", value), set("k:a/1", value), set("k:b/" + value, value)};
      if (v > 1)
        w.push_back(del("k:b/" + std::to_string(v - 1)));
      auto r = fx.store().persist({"s1", v, w});
      if (!r) {
        writer_error = r.error().render();
        break;
      }
    }
    done = true;
  });
  int loads = 0, inconsistent = 0;
  std::string first_bad;
  std::string load_error;
  while (!done || loads == 0) {
    auto snap = reader->load("s1");
    if (!snap) { // no REQUIRE while the writer runs: it must be joined
      load_error = snap.error().render();
      break;
    }
    ++loads;
    if (!snap->found)
      continue;
    auto v = std::to_string(snap->version);
    std::vector<field_write> want
      = {set("c:me", v), set("k:a/1", v), set("k:b/" + v, v)};
    if (snap->fields != want && ++inconsistent == 1)
      first_bad = "version " + v + " with "
                  + std::to_string(snap->fields.size()) + " fields";
  }
  writer.join();
  CHECK(load_error.empty());
  CHECK(writer_error.empty());
  INFO(loads << " loads, first inconsistent: " << first_bad);
  CHECK(inconsistent == 0);
  CHECK(load(*reader, "s1").version == versions);
}

TEST_CASE("values are stored as bytes: every byte value, key order and "
          "spacing survive",
          "[postgres][invariant-1]") {
  pg_fixture fx;
  std::string all_bytes;
  for (int b = 0; b < 256; ++b)
    all_bytes.push_back(static_cast<char>(b));
  // What jsonb would change: key order, duplicate keys, spacing, number
  // spelling, escapes.
  const std::string json
    = "{ \"b\" : 1.0e0, \"a\":2, \"a\":3, \"u\":\"\\u00e9\" }";
  REQUIRE(fx.store().persist(
    {"s1", 1, {set("k:bytes/all", all_bytes), set("c:json", json)}}));
  CHECK(load(fx.store(), "s1")
        == session_snapshot{
          true, 1, {set("c:json", json), set("k:bytes/all", all_bytes)}});
}

TEST_CASE("a load reports a version at or above every field row it returns",
          "[postgres][invariant-2]") {
  pg_fixture fx;
  REQUIRE(fx.store().persist({"s1", 3, {set("c:me", "1")}}));
  // A field row above the watermark cannot come from one persist here (the
  // watermark commits with it); a foreign or older writer could leave one.
  admin(fx.server(), "INSERT INTO \"" + fx.schema()
                       + "\".fields VALUES ('s1', 'k:x/1', 8, 'v')");
  auto snap = fx.store().load("s1");
  REQUIRE(snap);
  CHECK(snap->version == 8);
  // And the next write (version + 1) therefore outranks it.
  REQUIRE(fx.store().persist({"s1", snap->version + 1, {set("k:x/1", "new")}}));
  CHECK(load(fx.store(), "s1").fields
        == std::vector<field_write>{set("c:me", "1"), set("k:x/1", "new")});
}

} // namespace pg_store_pgtest
