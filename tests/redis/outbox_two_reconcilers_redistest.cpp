// outbox_two_reconcilers_redistest.cpp -- two reconcilers (two engines,
// each its own actor system and Redis connections, as two nodes would be)
// drain one Redis: every dirty session is persisted, none by both at once,
// nothing lost. The cold fakes of both engines share one store and record
// when a persist of a session arrives while another of the same session is
// still unanswered (an overlap); each persist is answered after 20 ms, so an
// overlap would have room to happen.
#include "tests/redis/outbox_support.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <vector>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace outbox_two_reconcilers_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;
using testing::fake_cold_control;
using testing::fake_mode;

TEST_CASE("two reconcilers on one Redis persist each dirty session, never "
          "one session concurrently",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  std::vector<std::string> sids;
  {
    // Dirty sessions left behind: a node whose cold store hung, no
    // reconciler of its own.
    auto writer = start_fake_cold_engine(redis->url(), ctl,
                                         {{"outbox.reconcile", "false"}});
    for (int i = 0; i < 300; ++i)
      sids.push_back(unique_sid("two"));
    make_known(*writer, sids);
    ctl->mode = fake_mode::hang;
    for (int i = 0; i < 300; ++i) {
      patch p;
      p.set_creds("me", std::to_string(i));
      p.set_key("pre-key", "1", "\"a\"");
      REQUIRE(writer->set(sids[static_cast<size_t>(i)], std::move(p)));
    }
  }
  REQUIRE(backlog(raw) == 300);
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    ctl->persists.clear(); // the hung live attempts applied nothing
  }
  ctl->mode = fake_mode::late;
  ctl->late_delay = 20ms;
  std::map<std::string, std::string> fast
    = {{"outbox.grace-ms", "0"}, {"outbox.max-in-flight", "16"}};
  auto a = start_fake_cold_engine(redis->url(), ctl, fast);
  auto b = start_fake_cold_engine(redis->url(), ctl, fast);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 30s));
  std::set<std::string> persisted;
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    INFO("overlaps " << ctl->overlaps);
    CHECK(ctl->overlaps == 0);
    for (const auto& req : ctl->persists)
      persisted.insert(req.session_id);
  }
  CHECK(persisted.size() == sids.size());
  auto& oa = engine_counts(*a).outbox;
  auto& ob = engine_counts(*b).outbox;
  // The backlog empties in Redis (clear_dirty) just before each reconciler
  // counts the round in its reply handler: wait for the counts to catch up
  // rather than read them at the instant the last mark went.
  wait_until(
    [&] {
      return oa.persists[1].load() + ob.persists[1].load() >= sids.size();
    },
    5s);
  auto by_a = oa.persists[1].load();
  auto by_b = ob.persists[1].load();
  INFO("reconciler a " << by_a << ", b " << by_b << ", claims lost "
                       << oa.claims_lost << " + " << ob.claims_lost);
  // Both took part, and together exactly once per session.
  CHECK(by_a > 0);
  CHECK(by_b > 0);
  CHECK(by_a + by_b == sids.size());
  for (const auto& sid : sids) {
    auto diff = cold_differs(raw, *ctl, sid);
    INFO(diff);
    CHECK(diff.empty());
  }
}

} // namespace outbox_two_reconcilers_redistest
