// The outbox reconciler's policy against the cold supervisor's published
// breaker (issue #15): nothing is claimed while it refuses every call, no
// more rounds than its probe slots while it probes, and the backlog drains
// once it is closed. A fake Redis keeps the outbox of a few sessions (the
// index, their marks, claims answered as the Lua scripts do); a fake cold
// supervisor answers persists at once or never.
#include "actors/outbox_reconciler.hpp"

#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <caf/all.hpp>
#include <catch2/catch.hpp>

#include "messages/cold_gate.hpp"
#include "redis/layout.hpp"
#include "tests/actor/fake_redis.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace outbox_reconciler_actortest {

using namespace authstore;
using namespace authstore::testing;
using namespace std::chrono_literals;

namespace {

/// The sessions' outboxes (each session: one mark at version 1 until a
/// clear_dirty of version >= 1), guarded for the test thread.
struct outbox_redis {
  std::mutex mtx;
  std::set<std::string> dirty;
  int claims = 0;
  int scans = 0;

  static std::string sid_of(const redis_request& req) {
    const auto& key = req.args.at(0); // as:{sid}:...
    auto a = key.find('{'), b = key.find('}');
    return key.substr(a + 1, b - a - 1);
  }

  answer_fn answer() {
    return [this](const redis_request& req) -> outcome<redis_reply> {
      std::lock_guard<std::mutex> guard{mtx};
      switch (req.script) {
        case redis_script::none: // dirty_candidates: ZRANGEBYSCORE as:dirty
          if (req.args.at(0) != "ZRANGEBYSCORE")
            return failure{errc::hot_error, "not kept by this fake"};
          ++scans;
          return array(std::vector<std::string>(dirty.begin(), dirty.end()));
        case redis_script::claim_dirty: {
          ++claims;
          if (dirty.count(sid_of(req)) == 0)
            return array({"1"});
          return array({"1", "c:me", "1", "V"});
        }
        case redis_script::clear_dirty:
          dirty.erase(sid_of(req));
          return array({"1", "0"});
        case redis_script::hold_claim:
          return integer(1);
        default: // outbox_stats, sweep_dirty: the reconciler skips them
          return failure{errc::hot_error, "not kept by this fake"};
      }
    };
  }

  int count(int outbox_redis::*field) {
    std::lock_guard<std::mutex> guard{mtx};
    return this->*field;
  }
  size_t left() {
    std::lock_guard<std::mutex> guard{mtx};
    return dirty.size();
  }
};

struct fake_cold_state {
  bool hang = false;
  std::atomic<int>* persists = nullptr;
  std::vector<caf::typed_response_promise<uint64_t>> held;
};

/// A cold supervisor that answers persist only (at once, or never). Cast
/// to cold_actor unchecked: with a gate the reconciler sends nothing else.
caf::behavior fake_cold(caf::stateful_actor<fake_cold_state>* self, bool hang,
                        std::atomic<int>* persists) {
  self->state.hang = hang;
  self->state.persists = persists;
  return {
    [=](persist_atom, persist_request& req) -> caf::result<uint64_t> {
      ++*self->state.persists;
      if (!self->state.hang)
        return req.version;
      auto rp = self->make_response_promise<uint64_t>();
      self->state.held.push_back(rp);
      return rp;
    },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  outbox_redis hot;
  std::map<redis_script, int> unused;
  std::atomic<int> persists{0};
  outbox_counters counters;
  cold_gate gate;
  std::vector<caf::actor> actors;

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
    for (int i = 0; i < 6; ++i)
      hot.dirty.insert("s" + std::to_string(i));
  }

  ~fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors.clear();
    sys.reset();
  }

  void start(bool cold_hangs) {
    auto redis = sys->spawn(fake_redis, hot.answer(), false, &unused);
    auto cold = sys->spawn(fake_cold, cold_hangs, &persists);
    reconciler_config rc;
    rc.redis = redis;
    rc.cold = caf::actor_cast<cold_actor>(cold);
    rc.interval = 10ms;
    rc.grace = 0ms;
    rc.cold_timeout = 60s; // a hung persist stays in flight
    rc.sweep_count = 0;
    rc.owner = "owner-1";
    rc.counters = &counters;
    rc.gate = &gate;
    auto r = spawn_outbox_reconciler(*sys, rc);
    actors.push_back(caf::actor_cast<caf::actor>(r));
    actors.push_back(caf::actor_cast<caf::actor>(redis));
    actors.push_back(cold);
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "issue #15 - while the breaker refuses every call the "
                 "reconciler claims and reads nothing; once it is closed "
                 "every dirty session is persisted",
                 "[outbox-reconciler][invariant-1][invariant-5]") {
  gate.publish(cold_gate::clock::now() + 1h, 3);
  start(false);
  REQUIRE(
    test::wait_until([&] { return counters.ticks_cold_open >= 10; }, 5s, 2ms));
  CHECK(hot.count(&outbox_redis::scans) == 0);
  CHECK(hot.count(&outbox_redis::claims) == 0);
  CHECK(persists == 0);
  CHECK(hot.left() == 6);
  gate.publish(cold_gate::clock::time_point::min(), cold_gate::unlimited);
  // The fake clears a mark when the clear request arrives; the round counts
  // its persist when the clear's reply comes back: wait for both.
  auto counted = [&] {
    return counters.persists[static_cast<size_t>(persist_path::reconciler)]
      .load();
  };
  REQUIRE(test::wait_until([&] { return hot.left() == 0 && counted() >= 6; },
                           5s, 2ms));
  CHECK(persists == 6);
  CHECK(counted() == 6);
}

TEST_CASE_METHOD(fixture,
                 "issue #15 - while the breaker probes the reconciler has "
                 "no more rounds in flight than it has probe slots",
                 "[outbox-reconciler][invariant-5]") {
  gate.publish(cold_gate::clock::time_point::min(), 2);
  start(true); // persists never answer: the rounds stay in flight
  REQUIRE(test::wait_until([&] { return persists >= 2; }, 5s, 2ms));
  // Many ticks later: still the two probes, no other session claimed.
  auto ticks = counters.ticks.load();
  REQUIRE(
    test::wait_until([&] { return counters.ticks >= ticks + 10; }, 5s, 2ms));
  CHECK(hot.count(&outbox_redis::claims) == 2);
  CHECK(persists == 2);
  CHECK(hot.left() == 6);
}

} // namespace outbox_reconciler_actortest
