// The outbox persist round (actors/persist_round.hpp), message by message on
// CAF's deterministic test scheduler with fake time: a driver actor runs one
// round against a fake Redis (tests/actor/fake_redis.hpp) and a fake cold
// supervisor, as the session actor (live path) and the reconciler (claims)
// do.
#include "actors/persist_round.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <catch2/catch.hpp>

#include "redis/layout.hpp"
#include "tests/actor/fake_redis.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace persist_round_actortest {

using namespace authstore;
using namespace authstore::testing;
using namespace std::chrono_literals;

namespace {

/// How the fake cold supervisor answers a persist.
enum class cold_answer { ok, fail, hang };

struct fake_cold_state {
  cold_answer answer = cold_answer::ok;
  std::vector<persist_request>* seen = nullptr;
  std::vector<caf::typed_response_promise<uint64_t>> held;
};

/// A cold supervisor that answers persist only. Dynamically typed and cast
/// to cold_actor (unchecked): the round sends nothing else to it.
caf::behavior fake_cold(caf::stateful_actor<fake_cold_state>* self,
                        cold_answer answer,
                        std::vector<persist_request>* seen) {
  self->state.answer = answer;
  self->state.seen = seen;
  return {
    [=](persist_atom, persist_request& req) -> caf::result<uint64_t> {
      self->state.seen->push_back(req);
      switch (self->state.answer) {
        case cold_answer::ok:
          return req.version;
        case cold_answer::fail:
          return make_error(errc::cold_error, "refused by the fake");
        case cold_answer::hang:
          break;
      }
      auto rp = self->make_response_promise<uint64_t>();
      self->state.held.push_back(rp);
      return rp;
    },
  };
}

/// A read_dirty/claim_dirty reply: version, then (field, mark, value).
redis_reply dirty_reply(uint64_t version,
                        std::vector<std::pair<std::string, uint64_t>> marks) {
  std::vector<std::string> items{std::to_string(version)};
  for (auto& [field, mark] : marks) {
    items.push_back(field);
    items.push_back(std::to_string(mark));
    items.push_back("V-" + field);
  }
  return array(items);
}

redis_reply clear_reply(uint64_t cleared, uint64_t remaining) {
  return array({std::to_string(cleared), std::to_string(remaining)});
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  caf::scheduler::test_coordinator* sched = nullptr;
  std::map<redis_script, int> counts;
  std::vector<redis_request> sent;
  std::vector<persist_request> persisted;
  outbox_counters counters;
  /// What the fake Redis answers, by script (missing: hot_error).
  std::map<redis_script, outcome<redis_reply>> replies;
  void answer(redis_script script, outcome<redis_reply> reply) {
    replies.insert_or_assign(script, std::move(reply));
  }
  std::optional<persist_outcome> result;
  int done_calls = 0;
  std::vector<caf::actor> actors;

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    sys = std::make_unique<caf::actor_system>(cfg);
    sched = &dynamic_cast<caf::scheduler::test_coordinator&>(sys->scheduler());
  }

  ~fixture() {
    for (auto& a : actors)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched->run();
  }

  /// A round config as `path` uses it (a claim for the reconciler).
  persist_round_config round_config(persist_path path, cold_answer answer) {
    auto redis = sys->spawn(
      fake_redis,
      [this](const redis_request& req) -> outcome<redis_reply> {
        sent.push_back(req);
        auto i = replies.find(req.script);
        if (i == replies.end())
          return failure{errc::hot_error, "unexpected script in test"};
        return i->second;
      },
      false, &counts);
    auto cold = sys->spawn(fake_cold, answer, &persisted);
    actors.push_back(caf::actor_cast<caf::actor>(redis));
    actors.push_back(cold);
    persist_round_config c;
    c.redis = redis;
    c.cold = caf::actor_cast<cold_actor>(cold);
    c.redis_timeout = 3s;
    c.cold_timeout = 4s;
    c.hot_ttl = 60s;
    c.path = path;
    c.counters = &counters;
    if (path == persist_path::reconciler) {
      c.owner = "owner-1";
      c.lease = 30s;
    }
    return c;
  }

  /// Spawns a driver that runs one round for "s1" and runs the scheduler.
  void run(const persist_round_config& c) {
    auto driver = sys->spawn([this, c](caf::event_based_actor* self) {
      run_persist_round(self, c, "s1", [this](const persist_outcome& o) {
        result = o;
        ++done_calls;
      });
      return caf::behavior{[](int) {
      }};
    });
    actors.push_back(driver);
    sched->run();
  }

  size_t path_slot(persist_path p) const { return static_cast<size_t>(p); }
};

/// `req` is clear_dirty(s1, version, token, <now>, ttl): equal to the
/// request built here in every argument but the one clock value.
bool is_clear_of(const redis_request& req, uint64_t version,
                 const std::string& token, int64_t ttl_ms) {
  auto a = redis_layout::clear_dirty("s1", version, token, 1, ttl_ms);
  auto b = redis_layout::clear_dirty("s1", version, token, 2, ttl_ms);
  if (req.script != a.script || req.num_keys != a.num_keys
      || req.args.size() != a.args.size())
    return false;
  for (size_t i = 0; i < a.args.size(); ++i)
    if (a.args[i] == b.args[i] && req.args[i] != a.args[i])
      return false;
  return true;
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "a live round reads the dirty fields, persists them at V "
                 "and clears the marks up to V",
                 "[persist-round][invariant-1]") {
  answer(redis_script::read_dirty,
         dirty_reply(7, {{"c:me", 6}, {"k:pre-key/1", 7}}));
  answer(redis_script::clear_dirty, clear_reply(2, 1));
  run(round_config(persist_path::live, cold_answer::ok));
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::persisted);
  CHECK(result->version == 7);
  CHECK(result->marks_cleared == 2);
  CHECK(result->marks_left == 1);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == redis_layout::read_dirty("s1"));
  CHECK(is_clear_of(sent[1], 7, "", 60000));
  REQUIRE(persisted.size() == 1);
  CHECK(persisted[0].session_id == "s1");
  CHECK(persisted[0].version == 7);
  CHECK(persisted[0].fields.size() == 2);
  auto live = path_slot(persist_path::live);
  CHECK(counters.persists[live] == 1);
  CHECK(counters.marks_cleared == 2);
  CHECK(counters.latency[live].count() == 1);
  CHECK(counters.clean_reads[live] == 0);
}

TEST_CASE_METHOD(fixture,
                 "a live round on a clean session ends without a persist or "
                 "a clear",
                 "[persist-round]") {
  answer(redis_script::read_dirty, dirty_reply(7, {}));
  run(round_config(persist_path::live, cold_answer::ok));
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::clean);
  CHECK(sent.size() == 1);
  CHECK(persisted.empty());
  CHECK(counters.clean_reads[path_slot(persist_path::live)] == 1);
  CHECK(counters.persists[path_slot(persist_path::live)] == 0);
}

TEST_CASE_METHOD(fixture,
                 "a reconciler round claims with its token and clears with "
                 "it",
                 "[persist-round]") {
  answer(redis_script::claim_dirty, dirty_reply(9, {{"c:me", 9}}));
  answer(redis_script::clear_dirty, clear_reply(1, 0));
  run(round_config(persist_path::reconciler, cold_answer::ok));
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::persisted);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == redis_layout::claim_dirty("s1", "owner-1", 30000));
  CHECK(is_clear_of(sent[1], 9, "owner-1", 60000));
  CHECK(counters.persists[path_slot(persist_path::reconciler)] == 1);
  CHECK(counters.persists[path_slot(persist_path::live)] == 0);
}

TEST_CASE_METHOD(fixture,
                 "a clean claimed session is cleared anyway: the index entry "
                 "goes and the claim is released",
                 "[persist-round]") {
  answer(redis_script::claim_dirty, dirty_reply(9, {}));
  answer(redis_script::clear_dirty, clear_reply(0, 0));
  run(round_config(persist_path::reconciler, cold_answer::ok));
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::clean);
  REQUIRE(sent.size() == 2);
  CHECK(is_clear_of(sent[1], 9, "owner-1", 60000));
  CHECK(persisted.empty());
  CHECK(counters.clean_reads[path_slot(persist_path::reconciler)] == 1);
}

TEST_CASE_METHOD(fixture,
                 "a session claimed by another reconciler is left alone",
                 "[persist-round]") {
  answer(redis_script::claim_dirty, array({"-2"}));
  run(round_config(persist_path::reconciler, cold_answer::ok));
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::claimed_elsewhere);
  CHECK(sent.size() == 1);
  CHECK(persisted.empty());
}

TEST_CASE_METHOD(fixture,
                 "a failed step ends the round there and clears nothing",
                 "[persist-round][invariant-1]") {
  SECTION("the read fails") {
    answer(redis_script::read_dirty,
           failure{errc::hot_unavailable, "connection refused"});
    run(round_config(persist_path::live, cold_answer::ok));
    REQUIRE(done_calls == 1);
    CHECK(result->end == persist_end::failed);
    CHECK(result->step == persist_step::read);
    CHECK(result->error.code == errc::hot_unavailable);
    CHECK(persisted.empty());
  }
  SECTION("the outbox is malformed") {
    answer(redis_script::claim_dirty, dirty_reply(3, {{"c:me", 4}}));
    run(round_config(persist_path::reconciler, cold_answer::ok));
    REQUIRE(done_calls == 1);
    CHECK(result->step == persist_step::read);
    CHECK(is_malformed(result->error.code));
    CHECK(persisted.empty());
  }
  SECTION("the cold store refuses") {
    answer(redis_script::read_dirty, dirty_reply(7, {{"c:me", 7}}));
    run(round_config(persist_path::live, cold_answer::fail));
    REQUIRE(done_calls == 1);
    CHECK(result->step == persist_step::persist);
    CHECK(result->error.code == errc::cold_error);
    CHECK(counts[redis_script::clear_dirty] == 0);
  }
  SECTION("the clear fails") {
    answer(redis_script::read_dirty, dirty_reply(7, {{"c:me", 7}}));
    answer(redis_script::clear_dirty, failure{errc::hot_error, "ERR"});
    run(round_config(persist_path::live, cold_answer::ok));
    REQUIRE(done_calls == 1);
    CHECK(result->step == persist_step::clear);
    CHECK(result->error.code == errc::hot_error);
    CHECK(result->version == 7);
  }
  CHECK(result->end == persist_end::failed);
  CHECK(counters.persists[0] + counters.persists[1] == 0);
  CHECK(counters.marks_cleared == 0);
}

TEST_CASE_METHOD(fixture,
                 "a cold store that never answers ends the round with a "
                 "timeout after cold_timeout, not before",
                 "[persist-round][invariant-5]") {
  answer(redis_script::read_dirty, dirty_reply(7, {{"c:me", 7}}));
  run(round_config(persist_path::live, cold_answer::hang));
  REQUIRE(persisted.size() == 1);
  CHECK(done_calls == 0);
  sched->advance_time(3999ms);
  sched->run();
  CHECK(done_calls == 0);
  sched->advance_time(1ms);
  sched->run();
  REQUIRE(done_calls == 1);
  CHECK(result->end == persist_end::failed);
  CHECK(result->step == persist_step::persist);
  CHECK(result->error.code == errc::timeout);
  CHECK(counts[redis_script::clear_dirty] == 0);
}

TEST_CASE_METHOD(fixture,
                 "issue #15 - while the breaker refuses every call a round "
                 "reads nothing and sends nothing, on either path",
                 "[persist-round][invariant-5][invariant-1]") {
  answer(redis_script::read_dirty, dirty_reply(7, {{"c:me", 7}}));
  answer(redis_script::claim_dirty, dirty_reply(7, {{"c:me", 7}}));
  answer(redis_script::clear_dirty, clear_reply(1, 0));
  cold_gate gate;
  gate.publish(std::chrono::steady_clock::now() + 1h, 3);
  for (auto path : {persist_path::live, persist_path::reconciler}) {
    auto c = round_config(path, cold_answer::ok);
    c.gate = &gate;
    result.reset();
    done_calls = 0;
    run(c);
    REQUIRE(done_calls == 1);
    CHECK(result->end == persist_end::breaker_open);
    CHECK(counters.breaker_open[path_slot(path)] == 1);
  }
  CHECK(sent.empty()); // no read_dirty, no claim_dirty, no clear
  CHECK(persisted.empty());
  CHECK(counters.persists[path_slot(persist_path::live)] == 0);
  // Once its probe is due the round runs as before: every mark left by the
  // refused rounds is still there to be persisted.
  gate.publish(std::chrono::steady_clock::time_point::min(),
               cold_gate::unlimited);
  auto c = round_config(persist_path::live, cold_answer::ok);
  c.gate = &gate;
  run(c);
  CHECK(result->end == persist_end::persisted);
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == redis_layout::read_dirty("s1"));
  REQUIRE(persisted.size() == 1);
  CHECK(persisted[0].version == 7);
}

} // namespace persist_round_actortest
