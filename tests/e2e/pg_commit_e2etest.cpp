// pg_commit_e2etest.cpp -- faults at the moment of a persist, against a
// real PostgreSQL 15 under steady writes through real `authstore serve`
// processes (remote clients, one write in flight each):
//
//   1. a statement timeout: a test transaction holds a session's row lock
//      for longer than two statement timeouts; that session's persists fail
//      with the server's own timeout (kind statement_timeout, counted), the
//      other sessions and every hot write go on, and the session persists
//      once the lock is gone;
//   2. authstore SIGKILLed during a persist: every COMMIT is held in the
//      server's synchronous-replication wait (synchronous_standby_names
//      names a standby that does not exist), so the node is killed while
//      its COMMITs are in flight -- the commit record written, the answer
//      not yet sent; a new node takes over the dirty sessions;
//   3. the database restarted with `pg_ctl restart -m immediate` during a
//      COMMIT, by the same hold: the restart is issued while at least one
//      of the node's COMMITs is known (pg_stat_activity, wait_event
//      SyncRep) to be past its WAL write and waiting for its answer. That
//      is as close as it gets: the client sees its connection drop inside
//      COMMIT ("may or may not have been applied"), the outbox keeps its
//      marks, and the retry after recovery is an idempotent upsert.
// Each phase ends with the backlog drained and, for every session, cold ==
// hot (plain SQL); at the end a fresh node on a fresh, empty Redis reads
// every session back from PostgreSQL alone. Hot writes never fail.
#include "tests/e2e/pg_harness.hpp"

#include <array>
#include <thread>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_commit_e2etest {

using namespace pg_e2e;
using remote_test::serve_process;

namespace {

/// How many backends wait in COMMIT for a synchronous standby.
int commit_waiters(pg_client& db) {
  std::string n;
  if (!db.exec("SELECT count(*) FROM pg_stat_activity WHERE wait_event = "
               "'SyncRep'",
               &n))
    return -1;
  return std::stoi(n);
}

/// Makes every COMMIT wait for a standby that never comes (`hold`), or lets
/// them go (reloaded at once when `reload`).
void hold_commits(pg_client& db, bool hold, bool reload = true) {
  INFO(db.last_error());
  REQUIRE(db.exec(hold ? "ALTER SYSTEM SET synchronous_standby_names = "
                         "'as_no_such_standby'"
                       : "ALTER SYSTEM RESET synchronous_standby_names"));
  if (reload)
    REQUIRE(db.exec("SELECT pg_reload_conf()"));
}

double errors_of_kind(const std::string& metrics, const std::string& kind) {
  return sample(metrics, R"(authstore_cold_store_errors_total{backend=)"
                         R"("postgresql",kind=")"
                           + kind + "\"}");
}

} // namespace

TEST_CASE("PostgreSQL faults at a persist under steady writes (a statement "
          "timeout, a node killed during its COMMITs, and the server "
          "restarted immediate during a COMMIT); nothing is lost, cold "
          "equals hot and reads back through a fresh Redis",
          "[e2e][postgres][outbox][invariant-1][invariant-3]") {
  pg_server pg;
  REQUIRE(pg.start());
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  pg_client db{pg.uri()};
  REQUIRE(db.is_open());
  // A call timeout of 3 s: statement_timeout is 2.5 s (the server answers
  // first), and a held COMMIT waits that long -- the window phases 2 and 3
  // act in.
  std::vector<std::string> tuning
    = {"AUTHSTORE_COLD_CALL_TIMEOUT_MS=3000", "AUTHSTORE_COLD_WORKERS=4"};
  auto port_a = free_port();
  auto a = serve_process::start(redis->url(), {}, node_env(pg, port_a, tuning));
  REQUIRE(a);

  std::array<writer, 2> ws;
  std::vector<std::string> all_sids;
  for (size_t w = 0; w < ws.size(); ++w)
    for (int i = 0; i < 8; ++i) {
      ws[w].sids.push_back(unique_sid("pgcommit" + std::to_string(w)));
      all_sids.push_back(ws[w].sids.back());
    }
  for (auto& w : ws)
    w.start(connect(*a));
  auto drained = [&] {
    return backlog(raw) == 0;
  };

  // 1. A statement timeout: the first session's row locked by the test.
  const auto& locked = all_sids.front();
  REQUIRE(wait_until([&] { return read_cold(db, locked).session_row; }, 20s));
  pg_client locker{pg.uri()};
  REQUIRE(locker.exec("BEGIN"));
  REQUIRE(locker.exec("SELECT v FROM authstore.sessions WHERE sid = '" + locked
                      + "' FOR UPDATE"));
  std::this_thread::sleep_for(6s); // over two statement timeouts
  auto metrics_locked = scrape(port_a);
  auto locked_dirty = raw.integer({"HLEN", "as:{" + locked + "}:o"}) > 0;
  REQUIRE(locker.exec("ROLLBACK"));
  CHECK(errors_of_kind(metrics_locked, "statement_timeout") > 0);
  CHECK(locked_dirty);

  // 2. The node killed while its COMMITs wait for their answer.
  hold_commits(db, true);
  REQUIRE(wait_until([&] { return commit_waiters(db) > 0; }, 20s));
  for (auto& w : ws)
    w.halt(); // the node is about to die: its clients stop first
  int waiting_at_kill = commit_waiters(db);
  a->signal(SIGKILL);
  CHECK(a->wait(5s) == 128 + SIGKILL);
  auto dirty_at_kill = backlog(raw);
  hold_commits(db, false);
  auto port_b = free_port();
  auto b = serve_process::start(redis->url(), {}, node_env(pg, port_b, tuning));
  REQUIRE(b);
  CHECK(wait_until(drained, 60s));
  require_cold_equals_hot(raw, db, all_sids);

  // 3. The server restarted immediate while a COMMIT waits for its answer.
  for (auto& w : ws)
    w.start(connect(*b));
  std::this_thread::sleep_for(2s);
  hold_commits(db, true);
  REQUIRE(wait_until([&] { return commit_waiters(db) > 0; }, 20s));
  // Reset on disk only: the running server keeps holding COMMITs, the
  // restarted one reads the reset.
  hold_commits(db, false, false);
  int waiting_at_restart = commit_waiters(db);
  REQUIRE(pg.restart_immediate());
  std::this_thread::sleep_for(3s); // writes go on after recovery
  for (auto& w : ws)
    w.halt();
  REQUIRE(wait_until(drained, 60s));
  pg_client after{pg.uri()};
  REQUIRE(after.is_open());
  require_cold_equals_hot(raw, after, all_sids);
  require_read_through_equals_hot(raw, pg, all_sids);
  auto metrics_b = scrape(port_b);

  for (size_t w = 0; w < ws.size(); ++w) {
    INFO("writer " << w << ": " << ws[w].ok << " ok, " << ws[w].failed
                   << " failed, last error " << ws[w].last_error);
    CHECK(ws[w].failed == 0); // hot writes never failed
    CHECK(ws[w].ok > 200);
  }
  WARN("against a real PostgreSQL: COMMITs waiting for their answer at "
       "the node's kill: "
       << waiting_at_kill << ", at the restart: " << waiting_at_restart);
  CHECK(waiting_at_kill > 0);
  CHECK(dirty_at_kill > 0);
  CHECK(waiting_at_restart > 0);
  // B saw the restart: its connections dropped inside calls.
  CHECK(errors_of_kind(metrics_b, "connection_lost")
          + errors_of_kind(metrics_b, "admin_shutdown")
          + errors_of_kind(metrics_b, "connect_failed")
        > 0);
}

} // namespace pg_commit_e2etest
