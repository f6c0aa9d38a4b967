// pg_outage_e2etest.cpp -- a real PostgreSQL 15 taken away under write
// load, with real `authstore serve` processes, a real redis-server and
// remote clients writing at a steady pace (four threads, one write in
// flight each). One run, in phases, because each phase needs the state the
// one before left (CI budget: one 30 s outage, not several):
//
//   1. healthy (12 s): two nodes A and B, both reconciling; write latency
//      measured.
//   2. PostgreSQL SIGSTOPped for 30 s: writes keep succeeding with their
//      latency measured; both breakers open; at the end B's writers stop
//      and B is SIGKILLed -- its last writes are acknowledged by Redis and
//      were never persisted (a node killed between a write and its
//      persist).
//   3. A's writers stop too, so that every session's backlog is left to the
//      reconcilers (with a gated live path A's own writes would otherwise
//      drain A's sessions the moment its breaker closes, and the fresh B'
//      could take every orphan before that: issue #15's fix made the race
//      one-sided). SIGCONT; once A has reconciled a session, B' (a new
//      process) starts: A and B' reconcile into the one database, B's
//      orphaned sessions included; the backlog drains, cold == hot for
//      every session (plain SQL).
//   4. healthy again (10 s, writers on A and B'), latency measured.
//   5. PostgreSQL SIGKILLed under the writes (with every backend; crash
//      recovery on restart after 3 s): writes keep succeeding, the backlog
//      drains, cold == hot, and a fresh node on a fresh, empty Redis reads
//      every session back from PostgreSQL alone, equal to the first Redis.
//
// The latency check: during the outage the hot path must not wait for the
// cold store -- a write that did would take the cold call timeout (3 s by
// default) -- so the outage's write p99 must stay under a tenth of it, an
// availability bound that holds on a loaded machine too. The issue's ratio
// (outage p99 within 1.2x of the healthy p99, "healthy" being the slower of
// phases 1 and 4) is a performance figure: printed here for every run and
// measured in bench/pg/outage.sh (bench/results/2026-12-07/OUTAGE.md), not
// asserted in a test (house rule: performance is measured in bench/, never
// as a timed test; on this shared 2-core machine this test printed
// 1.25-1.8x at load ~20 before persist rounds asked the breaker first). Every
// phase has the same once-a-second /metrics scrapes of both nodes (the outage
// phase needs them to see the breakers).
#include "tests/e2e/pg_harness.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <thread>
#include <utility>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_outage_e2etest {

using namespace pg_e2e;
using remote_test::serve_process;

namespace {

/// The phase writers record their latency into (-1: not recorded).
std::atomic<int> phase{-1};
constexpr int healthy_before = 0, outage = 1, healthy_after = 2;

double p99_ms(std::vector<int64_t> xs) {
  REQUIRE(xs.size() >= 100);
  std::sort(xs.begin(), xs.end());
  return static_cast<double>(xs[xs.size() * 99 / 100]) / 1e6;
}

std::vector<int64_t> all_latency(std::array<writer, 4>& ws, int p) {
  std::vector<int64_t> out;
  for (auto& w : ws)
    out.insert(out.end(), w.latency[static_cast<size_t>(p)].begin(),
               w.latency[static_cast<size_t>(p)].end());
  return out;
}

/// Whether `sid` has no dirty marks left.
bool clean(raw_redis& r, const std::string& sid) {
  return r.integer({"HLEN", "as:{" + sid + "}:o"}) == 0;
}

} // namespace

// (No colon in a test name: Catch2's console reporter indents its wrapped
// lines to the first colon, and throws when that lies past the width.)
TEST_CASE("PostgreSQL stopped for 30 s and then killed under steady writes "
          "through two nodes; writes keep succeeding at healthy latency, "
          "the breakers open, a node killed before its persists loses "
          "nothing, both nodes drain into one database, cold equals hot and "
          "reads back through a fresh Redis",
          "[e2e][postgres][outbox][invariant-1][invariant-3][invariant-5]") {
  pg_server pg;
  REQUIRE(pg.start());
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  pg_client db{pg.uri()};
  REQUIRE(db.is_open());
  // Small reconciler rounds, so that both nodes take part in the drain.
  std::vector<std::string> tuning = {"AUTHSTORE_OUTBOX_MAX_IN_FLIGHT=4",
                                     "AUTHSTORE_COLD_CALL_TIMEOUT_MS=1000"};
  auto port_a = free_port(), port_b = free_port();
  auto a = serve_process::start(redis->url(), {}, node_env(pg, port_a, tuning));
  REQUIRE(a);
  auto b = serve_process::start(redis->url(), {}, node_env(pg, port_b, tuning));
  REQUIRE(b);
  CHECK(a->log().find("cold store postgresql") != std::string::npos);

  std::array<writer, 4> ws;
  std::vector<std::string> all_sids;
  for (size_t w = 0; w < ws.size(); ++w) {
    ws[w].phase = &phase;
    for (int i = 0; i < 10; ++i) {
      ws[w].sids.push_back(unique_sid("pgout" + std::to_string(w)));
      all_sids.push_back(ws[w].sids.back());
    }
  }
  // Writers 0, 1 on node A; 2, 3 on node B.
  for (size_t w = 0; w < ws.size(); ++w)
    ws[w].start(connect(w < 2 ? *a : *b));

  // Every phase is watched the same way -- both nodes' /metrics scraped
  // once a second -- so that the scrapes weigh on every measured phase
  // alike. Returns the highest breaker state seen on each.
  auto watch = [](int seconds, uint16_t port1, uint16_t port2) {
    auto state = [](uint16_t port) {
      return sample(scrape(port),
                    R"(authstore_cold_breaker_state{backend="postgresql"})");
    };
    std::pair<double, double> highest{0, 0};
    for (int i = 0; i < seconds; ++i) {
      std::this_thread::sleep_for(1s);
      highest.first = std::max(highest.first, state(port1));
      highest.second = std::max(highest.second, state(port2));
    }
    return highest;
  };

  // 1. Healthy.
  std::this_thread::sleep_for(2s); // every session created (read-through)
  phase = healthy_before;
  auto closed_before = watch(10, port_a, port_b);
  CHECK(closed_before.first == 0);

  // 2. PostgreSQL stopped: sockets open, nothing answers.
  pg.pause();
  phase = outage;
  auto [open_a, open_b] = watch(30, port_a, port_b);
  phase = -1;
  auto dirty_during = backlog(raw);
  // B's writers stop, then B dies with acknowledged, unpersisted writes.
  ws[2].halt();
  ws[3].halt();
  std::vector<std::string> b_sids = ws[2].sids;
  b_sids.insert(b_sids.end(), ws[3].sids.begin(), ws[3].sids.end());
  size_t b_dirty = 0;
  for (const auto& sid : b_sids)
    b_dirty += clean(raw, sid) ? 0 : 1;
  b->signal(SIGKILL);
  CHECK(b->wait(5s) == 128 + SIGKILL);
  auto metrics_a = scrape(port_a);

  // 3. Back; A reconciles, then a new node B' joins it, into the one
  //    database.
  ws[0].halt();
  ws[1].halt();
  auto reconciled = [](uint16_t port) {
    return sample(scrape(port),
                  R"(authstore_outbox_persists_total{path="reconciler"})");
  };
  pg.resume();
  CHECK(wait_until([&] { return reconciled(port_a) > 0; }, 60s));
  auto port_b2 = free_port();
  auto b2
    = serve_process::start(redis->url(), {}, node_env(pg, port_b2, tuning));
  REQUIRE(b2);
  auto b_clean = [&] {
    for (const auto& sid : b_sids)
      if (!clean(raw, sid))
        return false;
    return true;
  };
  CHECK(wait_until(b_clean, 60s));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 60s));
  require_cold_equals_hot(raw, db, all_sids);
  auto reconciled_a = reconciled(port_a);

  // 4. Healthy again, the same load.
  for (size_t w = 0; w < ws.size(); ++w)
    ws[w].start(connect(w < 2 ? *a : *b2));
  std::this_thread::sleep_for(1s);
  phase = healthy_after;
  watch(10, port_a, port_b2);
  phase = -1;

  // 5. PostgreSQL killed (postmaster and backends), restarted after 3 s.
  pg.kill();
  std::this_thread::sleep_for(3s);
  auto dirty_killed = backlog(raw);
  REQUIRE(pg.start()); // crash recovery
  std::this_thread::sleep_for(3s);
  for (auto& w : ws)
    w.halt();
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 60s));
  pg_client after{pg.uri()};
  REQUIRE(after.is_open());
  require_cold_equals_hot(raw, after, all_sids);
  require_read_through_equals_hot(raw, pg, all_sids);
  auto metrics_end = scrape(port_a);
  // B' is counted at the end, not after phase 3: B' starts once A has
  // reconciled a session, and where a node takes seconds to start (the
  // sanitizer build at -O0) A had drained the 40 sessions' backlog alone
  // before B' was up. By the end B' has also had phase 5's backlog, which
  // its own writers made.
  auto reconciled_b2 = reconciled(port_b2);

  // What every phase promised.
  for (size_t w = 0; w < ws.size(); ++w) {
    INFO("writer " << w << ": " << ws[w].ok << " ok, " << ws[w].failed
                   << " failed, last error " << ws[w].last_error);
    CHECK(ws[w].failed == 0); // hot writes never failed
    CHECK(ws[w].ok > 1000);
  }
  auto before = p99_ms(all_latency(ws, healthy_before));
  auto during = p99_ms(all_latency(ws, outage));
  auto after_p99 = p99_ms(all_latency(ws, healthy_after));
  auto healthy = std::max(before, after_p99);
  WARN("against a real PostgreSQL: write p99 healthy before "
       << before << " ms, outage " << during << " ms, healthy after "
       << after_p99 << " ms; outage/healthy = " << during / healthy
       << " (the issue's target: <= 1.2; not asserted, see the top)");
  CHECK(during < 300.0); // the hot path never waited on the cold store
  CHECK(open_a == 2);    // open (not only half-open probes)
  CHECK(open_b == 2);
  CHECK(dirty_during > 0);
  CHECK(b_dirty > 0); // B really died with unpersisted writes
  CHECK(dirty_killed > 0);
  // Both nodes reconciled into the one database.
  CHECK(reconciled_a > 0);
  CHECK(reconciled_b2 > 0);
  // The store's failures by kind: a stopped server times out; a killed
  // one refuses or drops connections.
  CHECK(sample(metrics_a, R"(authstore_cold_store_errors_total{backend=)"
                          R"("postgresql",kind="io_timeout"})")
        > 0);
  CHECK(sample(metrics_end, R"(authstore_cold_store_errors_total{backend=)"
                            R"("postgresql",kind="connect_failed"})")
          + sample(metrics_end, R"(authstore_cold_store_errors_total{)"
                                R"(backend="postgresql",kind=)"
                                R"("connection_lost"})")
          + sample(metrics_end, R"(authstore_cold_store_errors_total{)"
                                R"(backend="postgresql",kind=)"
                                R"("admin_shutdown"})")
        > 0);
  CHECK(a->log().find("backend=postgresql") != std::string::npos);
}

} // namespace pg_outage_e2etest
