// outbox_redistest.cpp -- the transactional outbox, the write-behind persist
// path and the reconciler, against a real redis-server and the in-process
// fake cold worker (which keeps the durable state with mongo_store's rules;
// tests/actor/fake_cold_worker.hpp). The MongoDB wire path of the same flow
// is covered by tests/e2e/outbox_crash_e2etest.cpp.
//
// Each test ends with the acceptance check: the dirty index is
// empty and, for every session, the cold store equals Redis (fields,
// values, version).
#include "tests/redis/outbox_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace outbox_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;
using testing::fake_cold_control;
using testing::fake_mode;

namespace {

void require_cold_equals_hot(raw_redis& r, fake_cold_control& ctl,
                             const std::vector<std::string>& sids) {
  for (const auto& sid : sids) {
    auto diff = cold_differs(r, ctl, sid);
    INFO(diff);
    CHECK(diff.empty());
  }
}

const outbox_counters& outbox_of(engine& e) {
  return engine_counts(e).outbox;
}

} // namespace

TEST_CASE("every acknowledged write reaches the cold store, coalesced",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  ctl->mode = fake_mode::late; // each persist takes 30 ms: writes pile up
  ctl->late_delay = 30ms;
  auto e = start_fake_cold_engine(redis->url(), ctl);
  std::vector<std::string> sids;
  for (int i = 0; i < 4; ++i)
    sids.push_back(unique_sid("coalesce"));
  constexpr int writes_per_session = 100;
  std::vector<std::thread> writers;
  std::atomic<int> failed{0};
  for (const auto& sid : sids)
    writers.emplace_back([&, sid] {
      for (int i = 0; i < writes_per_session; ++i) {
        patch p;
        p.set_creds("me", "{\"n\":" + std::to_string(i) + "}");
        p.set_key("pre-key", std::to_string(i % 7),
                  "\"v" + std::to_string(i) + "\"");
        if (!e->set(sid, std::move(p)))
          ++failed;
      }
    });
  for (auto& t : writers)
    t.join();
  CHECK(failed == 0);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  require_cold_equals_hot(raw, *ctl, sids);
  auto& o = outbox_of(*e);
  auto persists = o.persists[0].load() + o.persists[1].load();
  INFO("dirty writes " << o.dirty_writes << ", persists " << persists);
  CHECK(o.dirty_writes.load() == sids.size() * writes_per_session);
  // One persist in flight per session at a time, 30 ms each: the 400
  // writes must travel in far fewer persists.
  CHECK(persists * 4 < o.dirty_writes);
  CHECK(ctl->overlaps == 0);
  // The backlog's field counter is back to zero: every mark was counted
  // in once and out once.
  CHECK(raw.text({"GET", "as:dirty:fields"}) == "0");
}

TEST_CASE("a write landing while its persist is in flight stays dirty and "
          "is persisted next",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  // No reconciler: only the live path may persist here.
  auto e = start_fake_cold_engine(redis->url(), ctl,
                                  {{"outbox.reconcile", "false"}});
  auto sid = unique_sid("inflight");
  make_known(*e, {sid}); // its load is a data call too: before counting
  auto calls_before = ctl->calls.load();
  ctl->late_delay = 400ms;
  ctl->mode = fake_mode::late;
  auto v1 = e->set(sid, creds_patch("a", "1"));
  REQUIRE(v1);
  REQUIRE(
    wait_until([&] { return ctl->calls.load() == calls_before + 1; }, 2s));
  // The first persist (carrying only c:a at v1) is now at the cold store.
  auto v2 = e->set(sid, creds_patch("b", "2"));
  REQUIRE(v2);
  CHECK(raw.text({"HGET", "as:{" + sid + "}:o", "c:b"}) == std::to_string(*v2));
  // After the first persist confirmed, its clear must leave c:b behind...
  REQUIRE(wait_until([&] { return ctl->late_answers.load() >= 1; }, 2s));
  // ...and the next round carries it, at v2.
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
  std::lock_guard<std::mutex> guard{ctl->mtx};
  REQUIRE(ctl->persists.size() == 2);
  CHECK(ctl->persists[0].version == *v1);
  CHECK(ctl->persists[1].version == *v2);
  REQUIRE(ctl->persists[1].fields.size() == 1);
  CHECK(ctl->persists[1].fields[0].field == "c:b");
  CHECK(raw.integer({"EXISTS", "as:{" + sid + "}:o"}) == 0);
}

TEST_CASE("a session deleted through the outbox is erased in the cold store "
          "and a later reconcile never brings it back",
          "[outbox][invariant-3]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("erase");
  patch p;
  p.set_creds("me", "{\"id\":\"1\"}");
  p.set_key("pre-key", "1", "\"x\"");
  REQUIRE(e->set(sid, p));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
  REQUIRE(ctl->view(sid).found);
  REQUIRE(*e->del(sid));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
  auto cold = ctl->view(sid);
  CHECK_FALSE(cold.found);
  CHECK(cold.fields.empty());
  // A stale persist of the old state (read before the delete, arriving
  // late) changes nothing: the erase is versioned.
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    ctl->apply(ctl->persists.front());
  }
  CHECK_FALSE(ctl->view(sid).found);
  // Reconciler ticks after the drain bring nothing back.
  auto persists = ctl->persists.size();
  std::this_thread::sleep_for(600ms);
  CHECK(ctl->persists.size() == persists);
  CHECK_FALSE(ctl->view(sid).found);
  require_cold_equals_hot(raw, *ctl, {sid});
  // Re-created after the delete: only the new fields are durable.
  REQUIRE(e->set(sid, creds_patch("fresh", "true")));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
  auto again = ctl->view(sid);
  REQUIRE(again.fields.size() == 1);
  CHECK(again.fields[0].field == "c:fresh");
  require_cold_equals_hot(raw, *ctl, {sid});
}

TEST_CASE("sessions left dirty by a failed cold store are persisted by the "
          "reconciler once it is back; backlog figures are reported",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  std::vector<std::string> sids;
  for (int i = 0; i < 20; ++i)
    sids.push_back(unique_sid("backlog"));
  make_known(*e, sids);
  ctl->fail_code = errc::cold_unavailable;
  ctl->mode = fake_mode::fail;
  for (const auto& sid : sids) {
    patch p;
    p.set_creds("me", "1");
    p.set_key("session", "a", "\"s\"");
    REQUIRE(e->set(sid, std::move(p))); // acknowledged regardless
  }
  CHECK(backlog(raw) == 20);
  auto& o = outbox_of(*e);
  REQUIRE(wait_until([&] { return o.backlog_sessions.load() == 20; }, 3s));
  CHECK(o.backlog_fields.load() == 40);
  REQUIRE(wait_until([&] { return o.oldest_age_ms.load() >= 300; }, 3s));
  auto text = e->metrics_text();
  CHECK(text.find("authstore_outbox_backlog_sessions 20") != std::string::npos);
  ctl->mode = fake_mode::succeed;
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 15s));
  require_cold_equals_hot(raw, *ctl, sids);
  CHECK(o.persists[1].load() > 0); // the reconciler did (some of) it
  CHECK(o.failures[0][static_cast<size_t>(errc::cold_unavailable)].load() > 0);
}

TEST_CASE("the sweep re-indexes a dirty session the index lost",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("lost");
  make_known(*e, {sid});
  ctl->mode = fake_mode::fail;
  REQUIRE(e->set(sid, creds_patch("me", "1")));
  // The live persist must have failed before the cold store comes back,
  // or it (not the sweep) would persist the session.
  REQUIRE(wait_until(
    [&] {
      return outbox_of(*e)
               .failures[0][static_cast<size_t>(errc::cold_error)]
               .load()
             == 1;
    },
    2s));
  REQUIRE(raw.integer({"ZREM", "as:dirty", sid}) == 1);
  ctl->mode = fake_mode::succeed;
  REQUIRE(wait_until([&] { return ctl->view(sid).found; }, 10s));
  CHECK(outbox_of(*e).reindexed.load() >= 1);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
  require_cold_equals_hot(raw, *ctl, {sid});
}

TEST_CASE("a malformed outbox entry is quarantined, never dropped",
          "[outbox]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("bad");
  // A mark that is not a version (written by hand: the scripts never do).
  raw.command({"HSET", "as:{" + sid + "}:m", "v", "3"});
  raw.command({"HSET", "as:{" + sid + "}:o", "c:me", "not-a-version"});
  raw.command({"ZADD", "as:dirty", "1", sid});
  REQUIRE(wait_until(
    [&] {
      return raw.text({"ZSCORE", "as:quarantine", sid}) != "<nil>";
    },
    5s));
  CHECK(raw.text({"ZSCORE", "as:dirty", sid}) == "<nil>");
  // Parked, not dropped: the marks are still there for an operator.
  CHECK(raw.text({"HGET", "as:{" + sid + "}:o", "c:me"}) == "not-a-version");
  CHECK(outbox_of(*e).quarantined.load() == 1);
  CHECK(ctl->persists.empty());
  REQUIRE(
    wait_until([&] { return outbox_of(*e).quarantine_size.load() == 1; }, 3s));
  // The sweep does not put it back into the index.
  std::this_thread::sleep_for(500ms);
  CHECK(raw.text({"ZSCORE", "as:dirty", sid}) == "<nil>");
}

TEST_CASE("after a restart with confirmed but uncleared marks, the "
          "re-persist changes nothing",
          "[outbox][invariant-3]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  std::vector<std::string> sids;
  {
    // First life: the cold store answers nothing, so marks stay.
    auto e = start_fake_cold_engine(redis->url(), ctl,
                                    {{"outbox.reconcile", "false"}});
    for (int i = 0; i < 10; ++i)
      sids.push_back(unique_sid("confirmed"));
    make_known(*e, sids);
    ctl->mode = fake_mode::hang;
    for (int i = 0; i < 10; ++i) {
      patch p;
      p.set_creds("me", std::to_string(i));
      p.set_key("pre-key", "1", "\"k\"");
      REQUIRE(e->set(sids[static_cast<size_t>(i)], p));
      p.erase_key("pre-key", "1");
      REQUIRE(e->set(sids[static_cast<size_t>(i)], p));
    }
  }
  // The cold store had in fact applied every hung persist (the fake applies
  // nothing when hanging, so apply them now): confirmed, never cleared.
  for (const auto& sid : sids) {
    auto st = read_hot(raw, sid);
    persist_request req{sid, st.version, {}};
    for (const auto& [f, v] : st.fields)
      req.fields.push_back({f, false, v});
    req.fields.push_back({"k:pre-key/1", true, ""});
    std::lock_guard<std::mutex> guard{ctl->mtx};
    ctl->apply(req);
  }
  REQUIRE(backlog(raw) == 10);
  int noops_before = 0;
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    noops_before = ctl->noop_persists;
    ctl->persists.clear();
  }
  ctl->mode = fake_mode::succeed;
  auto e = start_fake_cold_engine(redis->url(), ctl);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    CHECK(ctl->persists.size() == sids.size());
    // Every re-persist found the cold store already at its version.
    CHECK(ctl->noop_persists - noops_before == static_cast<int>(sids.size()));
  }
  require_cold_equals_hot(raw, *ctl, sids);
}

TEST_CASE("a cold worker that crashes on a persist is restarted and the "
          "session is persisted after all",
          "[outbox][invariant-1]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("crash");
  make_known(*e, {sid});
  ctl->mode = fake_mode::crash;
  REQUIRE(e->set(sid, creds_patch("me", "1")));
  // The worker died on the live persist; the write was acknowledged anyway.
  REQUIRE(wait_until([&] { return ctl->spawned.load() >= 2; }, 5s));
  ctl->mode = fake_mode::succeed;
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 15s));
  require_cold_equals_hot(raw, *ctl, {sid});
  CHECK(outbox_of(*e).persists[1].load() == 1); // the reconciler did it
}

TEST_CASE("a delete landing while the persist of the write before it is in "
          "flight still reaches the cold store",
          "[outbox][invariant-1][invariant-3]") {
  // The persist reads the session at V and, once confirmed, clears the
  // marks <= V. The delete's erase mark must be above V, or that clear
  // takes it along and the cold store never learns of the delete (with
  // read-through, the session then comes back when its hot copy expires).
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("erase-race");
  make_known(*e, {sid});
  ctl->late_delay = 300ms; // applied at once, confirmed 300 ms later
  ctl->mode = fake_mode::late;
  auto v = e->set(sid, creds_patch("me", "1"));
  REQUIRE(v);
  REQUIRE(wait_until([&] { return ctl->calls.load() >= 2; }, 2s)); // in flight
  auto d = e->del(sid);
  REQUIRE(d);
  CHECK(*d);
  CHECK(raw.text({"HGET", "as:{" + sid + "}:o", "!erase"})
        == std::to_string(*v + 1));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  CHECK_FALSE(ctl->view(sid).found);
  require_cold_equals_hot(raw, *ctl, {sid});
}

} // namespace outbox_redistest
