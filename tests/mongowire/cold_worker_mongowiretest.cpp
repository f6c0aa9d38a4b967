// cold_worker_mongowiretest.cpp -- the real cold worker around a real
// mongo_store, behind the real cold supervisor, against scripted mockupdb
// servers (tests/mongowire/mock_mongod.py): index creation at start and its
// failure, a persist end to end, "already newer", a hang-up, and a server
// that never answers (the supervisor's timeout, then the breaker). The
// worker's own protocol against a scripted store is in
// tests/actor/cold_worker_actortest.cpp.
#include "actors/cold_worker.hpp"

#include <chrono>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include "actors/cold_supervisor.hpp"
#include "mongo/store.hpp"
#include "tests/actor/cold_supervisor_harness.hpp"
#include "tests/mongowire/mock_mongod.hpp"
#include "tests/mongowire/wire_docs.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_worker_mongowiretest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const std::string sid = "s1";

/// Reply to createIndexes.
ojson indexes_ok() {
  return ojson::parse(R"({"ok": 1, "createdCollectionAutomatically": false,
                          "numIndexesBefore": 1, "numIndexesAfter": 2})");
}

struct fixture : cold_supervisor_harness {
  fixture() : cold_supervisor_harness(30s) {
    scfg.call_timeout = 2s;
    scfg.index_retry = 1h; // one index attempt per test: the plan is exact
    scfg.breaker.open_base = 10s;
    scfg.breaker.jitter_seed = 1;
  }

  /// Starts the supervisor with a real worker on `mock`, no retries (each
  /// command of the plan is sent exactly once).
  void start(const mock_mongod& mock) {
    auto mc = config_for(mock);
    mc.max_retries = 0;
    scfg.make_worker = [mc](caf::actor_system& s) {
      return spawn_cold_worker(s, opener_of<mongo_store>(mc));
    };
    scfg.backend = std::string{mongo_store::backend_name};
    start_supervisor();
  }

  /// Waits until the worker's index attempt has an outcome.
  cold_status after_index_attempt() {
    REQUIRE(wait_until(
      [&] {
        auto s = status();
        return s.indexes_ok
               || s.index_detail.find("in progress") == std::string::npos;
      },
      5s, 5ms));
    return status();
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "a new worker creates its indexes before serving, "
                 "and a persist through the supervisor reaches "
                 "MongoDB",
                 "[cold-worker][invariant-3]") {
  mock_mongod mock(
    plan({answer(indexes_ok()), answer(writes_ok(1)), answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  start(mock);
  auto s = after_index_attempt();
  CHECK(s.indexes_ok);
  auto v = persist(3);
  REQUIRE(v);
  CHECK(*v == 3);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0]["createIndexes"] == "keys");
  CHECK(
    cmds[1]
    == update_command("keys", ojson::array({value_item(sid, "c:me", 3, "1")})));
  CHECK(cmds[2]
        == update_command("sessions", ojson::array({watermark_item(sid, 3)})));
  CHECK(status().calls_succeeded == 1);
  CHECK(status().backend == "mongodb");
}

TEST_CASE_METHOD(fixture,
                 "an index failure at start is reported in the "
                 "supervisor's status, not ignored",
                 "[cold-worker]") {
  mock_mongod mock(plan({answer(command_failed(13))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  start(mock);
  auto s = after_index_attempt();
  CHECK_FALSE(s.indexes_ok);
  CHECK(s.index_detail.find("ensure indexes") != std::string::npos);
  CHECK(s.worker_up);
}

TEST_CASE_METHOD(fixture,
                 "an already-newer duplicate key is a success for "
                 "the caller and the breaker",
                 "[cold-worker][invariant-3]") {
  scfg.breaker.consecutive_failures = 1;
  // Keys, their confirm round, the watermark, its confirm round: all E11000.
  mock_mongod mock(
    plan({answer(indexes_ok()), answer(write_errors({0}, 11000)),
          answer(write_errors({0}, 11000)), answer(write_errors({0}, 11000)),
          answer(write_errors({0}, 11000))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  start(mock);
  after_index_attempt();
  auto v = persist(4);
  REQUIRE(v);
  CHECK(*v == 4);
  auto s = status();
  CHECK(s.state_name == "closed");
  CHECK(s.window_failures == 0);
  CHECK(s.calls_succeeded == 1);
}

TEST_CASE_METHOD(fixture,
                 "a hang-up mid-command reaches the caller as "
                 "cold_unavailable and counts as a failure",
                 "[cold-worker][invariant-4]") {
  mock_mongod mock(plan({answer(indexes_ok()), hang_up()}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  start(mock);
  after_index_attempt();
  auto v = persist(5);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::cold_unavailable);
  auto s = status();
  CHECK(s.calls_failed == 1);
  CHECK(s.window_failures == 1);
}

TEST_CASE_METHOD(fixture,
                 "a server that never answers: the caller gets a "
                 "timeout within the call timeout, and the open "
                 "breaker stops calling it",
                 "[cold-worker][invariant-5]") {
  // socketTimeoutMS is 1 s (wire_docs.hpp); the supervisor gives up first.
  scfg.call_timeout = 200ms;
  scfg.breaker.consecutive_failures = 1;
  mock_mongod mock(plan({answer(indexes_ok()), stay_silent()}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  start(mock);
  after_index_attempt();
  auto t0 = steady::now();
  auto v = persist(6);
  auto elapsed = steady::now() - t0;
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::timeout);
  CHECK(elapsed >= scfg.call_timeout);
  CHECK(elapsed < 1000ms); // before libmongoc's own socket timeout
  auto s = status();
  CHECK(s.state_name == "open");
  CHECK(s.calls_timed_out == 1);
  auto rejected = persist(7);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == errc::cold_unavailable);
  CHECK(rejected.error().detail.find("circuit open for") == 0);
  // Only the index command and the silent update reached the server.
  CHECK(commands_of(mock).size() == 2);
}

} // namespace cold_worker_mongowiretest
