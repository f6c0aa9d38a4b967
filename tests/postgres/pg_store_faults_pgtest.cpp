// pg_store_faults_pgtest.cpp -- pg_store when its PostgreSQL goes away: a
// stopped server, a SIGKILL, a hung (SIGSTOPped) server, a crash-like
// `pg_ctl restart -m immediate`, a terminated backend, too many clients,
// a full disk. Each case takes down a private server of its own
// (pg_server.hpp), never the shared one.
//
// What must hold (invariants 4 and 5): every failure is a clear errc,
// never "not found" and never a hang past the call's bounds; the next call
// after the server is back reconnects by itself; what was committed before
// is still there.
#include "postgres/store.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/contract/cold_store_contract.hpp"
#include "tests/postgres/pg_fixture.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_store_faults_pgtest {

using namespace authstore;
using namespace authstore::test;
using authstore::contract::set;

namespace {

// Short bounds: every failure below is expected, and each call may take up
// to (1 + max_retries) x (connect_timeout + call_timeout + margin).
pg_store_config fault_config(const pg_server& server,
                             const std::string& schema) {
  auto cfg = pg_test_config(server, schema);
  // Short enough for a quick failure, long enough for a loaded machine.
  cfg.call_timeout = std::chrono::milliseconds{1000};
  cfg.reply_margin = std::chrono::milliseconds{500};
  cfg.connect_timeout = std::chrono::milliseconds{2000};
  cfg.retry_backoff = std::chrono::milliseconds{20};
  return cfg;
}

struct private_store {
  pg_server server;
  std::unique_ptr<pg_store> store;

  explicit private_store(pg_server_options options = {})
      : server(std::move(options)) {
    if (!server.start())
      FAIL("private PostgreSQL did not start: " << server.last_error());
    store = open_pg_store(fault_config(server, "authstore"));
    auto ready = store->prepare();
    if (!ready)
      FAIL("init: " << ready.error().render());
  }
};

void check_unavailable(const failure& f) {
  INFO(f.render());
  CHECK(f.code == errc::cold_unavailable);
}

bool process_exists(pid_t pid) {
  return access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0;
}

} // namespace

TEST_CASE("a stopped server is cold_unavailable for every call, never not "
          "found",
          "[postgres][invariant-4]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  REQUIRE(p.server.stop());
  auto load = s.load("s1");
  REQUIRE_FALSE(load);
  check_unavailable(load.error());
  auto missing = s.load("never-stored"); // a read that could not happen
  REQUIRE_FALSE(missing);
  check_unavailable(missing.error());
  auto persist = s.persist({"s1", 2, {set("c:me", "2")}});
  REQUIRE_FALSE(persist);
  check_unavailable(persist.error());
  persist_request erase_all{"s1", 0, {}};
  erase_all.erase = true; // the unconditional erase: a persist, erase at 0
  auto erase = s.persist(erase_all);
  REQUIRE_FALSE(erase);
  check_unavailable(erase.error());
  REQUIRE_FALSE(s.ping());
  CHECK(is_transient(s.last_error_kind()));
  auto init = open_pg_store(fault_config(p.server, "authstore"))->prepare();
  REQUIRE_FALSE(init);
  check_unavailable(init.error());
  CHECK(init.error().detail.find("connect_failed") != std::string::npos);
  // Back: the same store reconnects on its next call; nothing was lost.
  REQUIRE(p.server.start());
  auto back = s.load("s1");
  REQUIRE(back);
  CHECK(*back == session_snapshot{true, 1, {set("c:me", "1")}});
}

TEST_CASE("after a SIGKILL of the server and a restart, the next call "
          "reconnects and committed data is there",
          "[postgres][invariant-1]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  auto old_pid = p.server.pid();
  p.server.kill();
  CHECK_FALSE(process_exists(old_pid)); // reaped, not a zombie
  auto r = s.persist({"s1", 2, {set("c:me", "2")}});
  REQUIRE_FALSE(r); // nothing listens: fails, does not hang
  check_unavailable(r.error());
  // The stale postmaster.pid and socket lock are gone: it starts again.
  REQUIRE(p.server.start());
  auto connects = s.stats().connects;
  REQUIRE(s.persist({"s1", 3, {set("k:a/1", "3")}}));
  CHECK(s.stats().connects > connects);
  CHECK(*s.load("s1")
        == session_snapshot{true, 3, {set("c:me", "1"), set("k:a/1", "3")}});
}

TEST_CASE("a SIGKILL while the store is connected: the open connection "
          "breaks, and the call after the restart succeeds",
          "[postgres][invariant-5]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  p.server.kill();
  REQUIRE(p.server.start());
  // The store's connection is to the killed server; the first attempt
  // meets a dead socket, the retry reconnects -- within one call.
  REQUIRE(s.persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(s.stats().transient_retries >= 1);
  CHECK(s.load("s1")->version == 2);
}

TEST_CASE("a hung server fails the call by the client deadline, and the "
          "store recovers once it answers again",
          "[postgres][invariant-5]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  p.server.pause();
  auto r = s.persist({"s1", 2, {set("c:me", "2")}});
  p.server.resume();
  REQUIRE_FALSE(r);
  check_unavailable(r.error());
  // The first attempt waited for an answer on the open connection; the
  // retries could not even connect (no startup reply).
  CHECK(s.stats().errors[static_cast<size_t>(pg_error_kind::io_timeout)] >= 1);
  REQUIRE(s.persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(*s.load("s1") == session_snapshot{true, 2, {set("c:me", "2")}});
}

TEST_CASE("with a call budget, a call against a hung server ends by the "
          "budget, reconnects and retries included, and counts its failures "
          "by kind",
          "[postgres][invariant-5]") {
  private_store p;
  cold_store_counters counters;
  auto cfg = fault_config(p.server, "authstore");
  cfg.call_timeout = std::chrono::milliseconds{600};
  cfg.reply_margin = std::chrono::milliseconds{150};
  cfg.connect_timeout = std::chrono::milliseconds{5000};
  cfg.max_retries = 5;
  cfg.call_budget = std::chrono::milliseconds{750};
  cfg.counters = &counters;
  auto s = open_pg_store(cfg);
  REQUIRE(s->persist({"s1", 1, {set("c:me", "1")}}));
  p.server.pause();
  auto start = std::chrono::steady_clock::now();
  auto r = s->persist({"s1", 2, {set("c:me", "2")}});
  auto took = std::chrono::steady_clock::now() - start;
  p.server.resume();
  REQUIRE_FALSE(r);
  check_unavailable(r.error());
  // Without the budget: up to 6 x (5 s connect + 0.75 s) here. The slack
  // is for a loaded machine (poll wakes late, sleeps overshoot).
  CHECK(took < std::chrono::milliseconds{2000});
  CHECK(counters.failures[static_cast<size_t>(pg_error_kind::io_timeout)] >= 1);
  CHECK(counters.connects >= 1);
  REQUIRE(s->persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(*s->load("s1") == session_snapshot{true, 2, {set("c:me", "2")}});
}

TEST_CASE("pg_ctl restart -m immediate: the next call reconnects, committed "
          "data survives crash recovery",
          "[postgres][invariant-1]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  bool restarted = p.server.restart_immediate();
  INFO(p.server.last_error());
  REQUIRE(restarted);
  REQUIRE(s.persist({"s1", 2, {set("k:a/1", "2")}}));
  CHECK(*s.load("s1")
        == session_snapshot{true, 2, {set("c:me", "1"), set("k:a/1", "2")}});
  REQUIRE(p.server.stop()); // the adopted postmaster stops by pid too
  CHECK_FALSE(p.server.is_running());
}

TEST_CASE("a backend terminated by the server is replaced within the call",
          "[postgres][invariant-5]") {
  private_store p;
  auto& s = *p.store;
  REQUIRE(s.persist({"s1", 1, {set("c:me", "1")}}));
  REQUIRE(p.server.exec("SELECT pg_terminate_backend(pid) FROM "
                        "pg_stat_activity WHERE application_name = "
                        "'authstore'"));
  REQUIRE(s.persist({"s1", 2, {set("c:me", "2")}}));
  CHECK(s.stats().transient_retries == 1);
  CHECK(
    s.stats().errors[static_cast<size_t>(pg_error_kind::admin_shutdown)]
      + s.stats().errors[static_cast<size_t>(pg_error_kind::connection_lost)]
    == 1);
  CHECK(s.load("s1")->version == 2);
}

TEST_CASE("too many connections is its own transient error",
          "[postgres][invariant-5]") {
  // 6 slots, 3 reserved for superusers, one taken by the superuser store
  // of private_store: two ordinary sessions fill the rest.
  pg_server_options options;
  options.max_connections = 6;
  private_store p(options);
  REQUIRE(p.server.exec("CREATE ROLE as_user LOGIN PASSWORD 'pw'"));
  REQUIRE(p.server.exec("GRANT USAGE ON SCHEMA authstore TO as_user"));
  REQUIRE(p.server.exec("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES "
                        "IN SCHEMA authstore TO as_user"));
  pg_client a(p.server.uri("as_user", "pw")), b(p.server.uri("as_user", "pw"));
  REQUIRE(a.is_open());
  REQUIRE(b.is_open());
  auto cfg = fault_config(p.server, "authstore");
  cfg.uri = p.server.uri("as_user", "pw");
  auto store = open_pg_store(cfg);
  auto r = store->load("s1");
  REQUIRE_FALSE(r);
  check_unavailable(r.error());
  CHECK(store->last_error_kind() == pg_error_kind::too_many_connections);
  CHECK(r.error().detail.find("53300") != std::string::npos);
}

TEST_CASE("a full disk is its own error; the server keeps answering reads",
          "[postgres]") {
  // A 1 MiB tmpfs as the tablespace of the store's tables: PostgreSQL
  // cannot extend them once it is full (SQLSTATE 53100). Needs root (mount).
  REQUIRE(geteuid() == 0);
  private_store p;
  char dir[] = "/tmp/authstore-pgfull-XXXXXX";
  REQUIRE(mkdtemp(dir));
  REQUIRE(mount("tmpfs", dir, "tmpfs", 0, "size=1m,mode=0700") == 0);
  struct unmount_at_end {
    const char* dir;
    ~unmount_at_end() {
      umount2(dir, MNT_DETACH);
      rmdir(dir);
    }
  } guard{dir};
  REQUIRE(std::system(("chown postgres:postgres " + std::string(dir)).c_str())
          == 0);
  REQUIRE(p.server.exec("CREATE TABLESPACE as_small LOCATION '"
                        + std::string(dir) + "'"));
  REQUIRE(p.server.exec("ALTER TABLE authstore.fields SET TABLESPACE "
                        "as_small"));
  auto& s = *p.store;
  // 64 KiB values, distinct sessions: the table grows until the disk is
  // full. Values are not compressible (TOAST would shrink repeats).
  std::string value;
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 64 * 1024; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    value.push_back(static_cast<char>('!' + x % 90));
  }
  outcome<uint64_t> r{1};
  int written = 0;
  for (; written < 200 && r; ++written)
    r = s.persist({"s" + std::to_string(written),
                   1,
                   {set("k:big/" + std::to_string(written), value)}});
  REQUIRE_FALSE(r);
  INFO(r.error().render());
  CHECK(s.last_error_kind() == pg_error_kind::disk_full);
  CHECK(r.error().code == errc::cold_error);
  CHECK(r.error().detail.find("53100") != std::string::npos);
  // What was committed reads back; the server is up.
  REQUIRE(written > 1);
  auto first = s.load("s0");
  REQUIRE(first);
  CHECK(first->fields.size() == 1);
  // Not required: the tmpfs goes with the guard, the cluster with p.
  p.server.exec("ALTER TABLE authstore.fields SET TABLESPACE pg_default");
  p.server.exec("DROP TABLESPACE as_small");
}

TEST_CASE("the harness leaves no process and no stale lock file behind a "
          "SIGKILL",
          "[postgres]") {
  pg_server server;
  REQUIRE(server.start());
  pg_client held(server.uri()); // a backend that must die too
  REQUIRE(held.is_open());
  std::string backend;
  REQUIRE(held.exec("SELECT pg_backend_pid()", &backend));
  auto postmaster = server.pid();
  server.kill();
  CHECK_FALSE(process_exists(postmaster));
  CHECK_FALSE(process_exists(static_cast<pid_t>(std::stol(backend))));
  REQUIRE(server.start()); // same port, same socket dir
  CHECK(server.exec("SELECT 1"));
}

} // namespace pg_store_faults_pgtest
