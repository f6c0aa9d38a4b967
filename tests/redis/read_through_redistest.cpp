// read_through_redistest.cpp -- read-through and the hot TTL (issue #8's
// "Redis miss served by the cold store", invariants 4 and 6), against a
// real redis-server and the in-process fake cold worker, which keeps the
// durable state with mongo_store's rules (tests/actor/fake_cold_worker.hpp).
// The same path through libmongoc to a MongoDB wire server is in
// tests/e2e/outbox_crash_e2etest.cpp.
//
// What is asserted: a session whose hot copy expired (or was lost) reads
// back exactly, at its version, and writes continue above it; a dirty
// session never expires; a backend failure while loading is an error, never
// "not found"; operations waiting for a load keep their order.
#include "tests/redis/outbox_support.hpp"

#include <catch2/catch.hpp>

#include <caf/all.hpp>

#include <condition_variable>
#include <mutex>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace read_through_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;
using testing::fake_cold_control;
using testing::fake_mode;

namespace {

std::string hot_key(const std::string& sid, const char* suffix) {
  return "as:{" + sid + "}:" + suffix;
}

/// PTTL of the session's meta, creds and keys hashes.
std::vector<long long> hot_ttls(raw_redis& r, const std::string& sid) {
  return {r.integer({"PTTL", hot_key(sid, "m")}),
          r.integer({"PTTL", hot_key(sid, "c")}),
          r.integer({"PTTL", hot_key(sid, "k")})};
}

uint64_t read_throughs(engine& e, size_t slot) {
  return engine_counts(e).sessions.read_through[slot].load();
}

uint64_t cold_reads(engine& e) {
  return engine_counts(e).sessions.cold_hits.load();
}

/// Stores `sid` in the fake cold store only (Redis never saw it), as a
/// persist at `version` would.
void store_cold_only(fake_cold_control& ctl, const std::string& sid,
                     uint64_t version) {
  persist_request req;
  req.session_id = sid;
  req.version = version;
  req.fields = {{"c:me", false, R"({"id":"cold@s.whatsapp.net"})"},
                {"k:pre-key/1", false, R"({"public":"AQID"})"}};
  std::lock_guard<std::mutex> guard{ctl.mtx};
  ctl.apply(req);
}

const char* two_fields = R"({"creds":{"me":{"id":"1@s.whatsapp.net"}},
                             "keys":{"pre-key":{"1":{"public":"AQID"}}}})";

} // namespace

TEST_CASE("a session whose hot copy expired reads back from the cold store "
          "at its version, and writes continue above it",
          "[read-through][invariant-4][invariant-6]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e
    = start_fake_cold_engine(redis->url(), ctl, {{"redis.hot-ttl-s", "1"}});
  auto sid = unique_sid("expire");
  REQUIRE(e->set_json(sid, two_fields));
  auto v = e->set_json(sid, R"({"keys":{"session":{"peer":"s"}}})");
  REQUIRE(v);
  CHECK(*v == 2);
  // Persisted and clean: now, and only now, the hot copy has a TTL.
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  for (auto ttl : hot_ttls(raw, sid)) {
    CHECK(ttl > 0);
    CHECK(ttl <= 1000);
  }
  auto before = read_hot(raw, sid);
  REQUIRE(wait_until(
    [&] {
      return raw.integer({"EXISTS", hot_key(sid, "m")}) == 0;
    },
    5s));
  CHECK(raw.integer({"EXISTS", hot_key(sid, "c")}) == 0);
  CHECK(raw.integer({"EXISTS", hot_key(sid, "k")}) == 0);
  std::this_thread::sleep_for(1100ms); // the session actor's cache is stale

  auto creds = e->get_creds(sid);
  REQUIRE(creds);
  CHECK(creds->found);
  CHECK(creds->version == 2);
  CHECK(json::parse(creds->creds_json)
        == json::parse(R"({"me":{"id":"1@s.whatsapp.net"}})"));
  auto keys = e->get_keys(sid, "session", {"peer"});
  REQUIRE(keys);
  CHECK(keys->values.at("peer") == "\"s\"");
  CHECK(read_throughs(*e, read_through_result::loaded) == 1);
  CHECK(cold_reads(*e) == 1); // the keys read was answered by Redis again
  // Redis holds exactly what it held before expiry, with a TTL again.
  auto after = read_hot(raw, sid);
  CHECK(after.fields == before.fields);
  CHECK(after.version == before.version);
  for (auto ttl : hot_ttls(raw, sid))
    CHECK(ttl > 0);
  // A write continues at 3, and reaches the cold store at 3.
  auto v3 = e->set_json(sid, R"({"creds":{"registered":true}})");
  REQUIRE(v3);
  CHECK(*v3 == 3);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  auto diff = cold_differs(raw, *ctl, sid);
  INFO(diff);
  CHECK(diff.empty());
  auto m = e->metrics_text();
  CHECK(m.find(R"(authstore_reads_total{source="cold"} 1)")
        != std::string::npos);
  CHECK(m.find(R"(authstore_read_through_total{result="loaded"} 1)")
        != std::string::npos);
}

TEST_CASE("a write to a session Redis lost continues above the cold store's "
          "version and keeps every field it did not name",
          "[read-through][invariant-2][invariant-4]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("lost");
  store_cold_only(*ctl, sid, 7); // e.g. Redis restarted without its data
  patch p;
  p.set_key("pre-key", "2", R"({"public":"BAUG"})");
  auto v = e->set(sid, std::move(p));
  REQUIRE(v);
  CHECK(*v == 8);
  auto hot = read_hot(raw, sid);
  CHECK(hot.fields.size() == 3); // c:me, k:pre-key/1 from the cold store
  CHECK(hot.fields.count("c:me") == 1);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  auto diff = cold_differs(raw, *ctl, sid);
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("a session neither store has reads as not found, leaves a "
          "tombstone, and starts at version 1",
          "[read-through][invariant-4]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("new");
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK_FALSE(c->found);
  CHECK(c->version == 0);
  auto ex = e->exists(sid);
  REQUIRE(ex);
  CHECK_FALSE(*ex);
  // One load: the tombstone {v: 0, d: 1} answers the exists.
  CHECK(read_throughs(*e, read_through_result::absent) == 1);
  CHECK(raw.text({"HGET", hot_key(sid, "m"), "d"}) == "1");
  CHECK(raw.text({"HGET", hot_key(sid, "m"), "v"}) == "0");
  // Without a hot TTL the tombstone still expires (an hour): reads of
  // unknown ids do not fill Redis for ever.
  auto tombstone_ttl = raw.integer({"PTTL", hot_key(sid, "m")});
  CHECK(tombstone_ttl > 3500 * 1000);
  CHECK(tombstone_ttl <= 3600 * 1000);
  auto v = e->set_json(sid, two_fields);
  REQUIRE(v);
  CHECK(*v == 1);
  for (auto ttl : hot_ttls(raw, sid)) // a session now: no TTL
    CHECK(ttl == -1);
  CHECK(read_throughs(*e, read_through_result::absent) == 1);
  auto again = e->exists(sid);
  REQUIRE(again);
  CHECK(*again);
}

TEST_CASE("a failed load is the caller's error, never 'not found', and "
          "nothing is written",
          "[read-through][invariant-4][invariant-5]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("cold-down");
  store_cold_only(*ctl, sid, 4);
  ctl->fail_code = errc::cold_unavailable;
  ctl->mode = fake_mode::fail;
  auto is_cold_error = [](const failure& f) {
    return f.code == errc::cold_unavailable || f.code == errc::cold_error;
  };
  auto c = e->get_creds(sid);
  REQUIRE_FALSE(c);
  INFO(c.error().render());
  CHECK(is_cold_error(c.error()));
  CHECK(c.error().detail.find("not in Redis") != std::string::npos);
  auto k = e->get_keys(sid, "pre-key", {"1"});
  REQUIRE_FALSE(k);
  CHECK(is_cold_error(k.error()));
  patch p;
  p.set_creds("registered", "true");
  auto s = e->set(sid, std::move(p));
  REQUIRE_FALSE(s);
  CHECK(is_cold_error(s.error()));
  auto ex = e->exists(sid);
  REQUIRE_FALSE(ex);
  CHECK(is_cold_error(ex.error()));
  auto t = e->touch(sid);
  REQUIRE_FALSE(t);
  auto d = e->del(sid);
  REQUIRE_FALSE(d);
  CHECK(is_cold_error(d.error()));
  // Nothing of the session reached Redis: no half-known session.
  CHECK(raw.integer({"EXISTS", hot_key(sid, "m")}) == 0);
  CHECK(raw.integer({"EXISTS", hot_key(sid, "c")}) == 0);
  CHECK(raw.integer({"EXISTS", hot_key(sid, "o")}) == 0);
  CHECK(read_throughs(*e, read_through_result::failed) >= 1);

  SECTION("an open circuit answers at once") {
    REQUIRE(e->force_cold_open(true));
    auto start = std_clock::now();
    auto r = e->get_creds(sid);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cold_unavailable);
    CHECK(ms_since(start) < 200);
    REQUIRE(e->force_cold_open(false));
  }
  SECTION("the cold store back, the session reads back whole") {
    ctl->mode = fake_mode::succeed;
    outcome<creds_reply> back = failure{errc::internal, "not read yet"};
    // The failures opened the circuit (1 s here): reads fail fast until
    // its probe lets one through.
    CHECK(wait_until(
      [&] { return static_cast<bool>(back = e->get_creds(sid)); }, 5s));
    REQUIRE(back);
    CHECK(back->found);
    CHECK(back->version == 4);
  }
}

TEST_CASE("a dirty session keeps no TTL until the cold store has it",
          "[read-through][invariant-1][invariant-6]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e
    = start_fake_cold_engine(redis->url(), ctl, {{"redis.hot-ttl-s", "1"}});
  auto sid = unique_sid("dirty-ttl");
  REQUIRE(e->set_json(sid, two_fields));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  ctl->mode = fake_mode::fail; // from now on nothing reaches the cold store
  REQUIRE(e->set_json(sid, R"({"creds":{"registered":true}})"));
  CHECK(raw.integer({"TTL", hot_key(sid, "m")}) == -1);
  REQUIRE(e->touch(sid)); // a touch does not give a dirty session a TTL
  std::this_thread::sleep_for(2500ms); // past the 1 s TTL
  for (auto ttl : hot_ttls(raw, sid))
    CHECK(ttl == -1);
  auto hot = read_hot(raw, sid);
  CHECK(hot.version == 2);
  CHECK(hot.fields.count("c:registered") == 1);
  ctl->mode = fake_mode::succeed;
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 15s));
  for (auto ttl : hot_ttls(raw, sid))
    CHECK(ttl > 0);
  auto diff = cold_differs(raw, *ctl, sid);
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("a deleted session stays deleted after its tombstone expired, "
          "and a re-created one continues above the delete",
          "[read-through][invariant-2][invariant-3]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e
    = start_fake_cold_engine(redis->url(), ctl, {{"redis.hot-ttl-s", "1"}});
  auto sid = unique_sid("deleted");
  REQUIRE(e->set_json(sid, two_fields)); // a new session: one "absent" load
  CHECK(read_throughs(*e, read_through_result::absent) == 1);
  REQUIRE(e->set_json(sid, R"({"creds":{"registered":true}})"));
  auto d = e->del(sid);
  REQUIRE(d);
  CHECK(*d);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  REQUIRE(wait_until(
    [&] {
      return raw.integer({"EXISTS", hot_key(sid, "m")}) == 0;
    },
    5s));
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK_FALSE(c->found);
  CHECK(read_throughs(*e, read_through_result::absent) == 2);
  auto v = e->set_json(sid, R"({"creds":{"me":{"id":"2@s.whatsapp.net"}}})");
  REQUIRE(v);
  CHECK(*v == 4); // the delete was version 3
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  auto hot = read_hot(raw, sid);
  CHECK(hot.fields.size() == 1); // nothing from before the delete
  auto diff = cold_differs(raw, *ctl, sid);
  INFO(diff);
  CHECK(diff.empty());
}

TEST_CASE("operations waiting for a load reach Redis in arrival order, "
          "after one load",
          "[read-through][invariant-2]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  ctl->late_delay = 200ms; // the load takes a while: everything queues
  auto e = start_fake_cold_engine(redis->url(), ctl);
  auto sid = unique_sid("order");
  store_cold_only(*ctl, sid, 10);
  ctl->mode = fake_mode::late;
  // 30 sets sent at once by one actor, each expecting the version the one
  // before it makes: any reordering is a version conflict.
  constexpr int n = 30;
  struct answers {
    std::mutex mx;
    std::condition_variable cv;
    std::vector<std::string> results = std::vector<std::string>(n);
    int answered = 0;
  };
  auto out = std::make_shared<answers>();
  auto router = engine_router(*e);
  engine_system(*e).spawn([=](caf::event_based_actor* self) -> caf::behavior {
    for (int i = 0; i < n; ++i) {
      patch p;
      p.expected_version = 10 + static_cast<uint64_t>(i);
      p.set_key("pre-key", std::to_string(100 + i), std::to_string(i));
      auto done = [=](std::string r) {
        std::lock_guard<std::mutex> guard{out->mx};
        out->results[static_cast<size_t>(i)] = std::move(r);
        if (++out->answered == n) {
          out->cv.notify_all();
          self->quit();
        }
      };
      self->request(router, 10s, set_atom::value, sid, std::move(p))
        .then([=](uint64_t v) { done(std::to_string(v)); },
              [=](caf::error& err) { done(to_failure(err).render()); });
    }
    return {[](int) {
    }}; // alive between replies; quits itself
  });
  {
    std::unique_lock<std::mutex> guard{out->mx};
    REQUIRE(out->cv.wait_for(guard, 15s, [&] { return out->answered == n; }));
  }
  for (int i = 0; i < n; ++i) {
    INFO("set " << i);
    CHECK(out->results[static_cast<size_t>(i)] == std::to_string(11 + i));
  }
  CHECK(read_throughs(*e, read_through_result::loaded) == 1);
  CHECK(read_hot(raw, sid).version == 10 + n);
}

TEST_CASE("a patch without writes moves the cold watermark too, so a session "
          "read back after expiry never shows an older version",
          "[read-through][invariant-2]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e
    = start_fake_cold_engine(redis->url(), ctl, {{"redis.hot-ttl-s", "1"}});
  auto sid = unique_sid("empty-patch");
  REQUIRE(e->set_json(sid, two_fields));
  auto v = e->set(sid, patch{});
  REQUIRE(v);
  CHECK(*v == 2);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
  CHECK(ctl->view(sid).version == 2);
  REQUIRE(wait_until(
    [&] {
      return raw.integer({"EXISTS", hot_key(sid, "m")}) == 0;
    },
    5s));
  std::this_thread::sleep_for(1100ms); // the session actor's cache is stale
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK(c->found);
  CHECK(c->version == 2);
}

TEST_CASE("a batch read of sessions only the cold store has loads each one, "
          "even when their actors are passivated while they load",
          "[read-through][invariant-4]") {
  auto redis = start_redis();
  auto ctl = std::make_shared<fake_cold_control>();
  // One live actor at most: each new session passivates the previous one,
  // which is still waiting for its load.
  auto e
    = start_fake_cold_engine(redis->url(), ctl, {{"session.max-live", "1"}});
  std::vector<std::string> sids;
  for (uint64_t i = 0; i < 5; ++i) {
    sids.push_back(unique_sid("batch"));
    store_cold_only(*ctl, sids.back(), 3 + i);
  }
  ctl->late_delay = 100ms;
  ctl->mode = fake_mode::late;
  std::vector<session_result> results;
  std::string error;
  caf::scoped_actor self{engine_system(*e)};
  self->request(engine_router(*e), 10s, mget_atom::value, sids)
    .receive([&](std::vector<session_result>& r) { results = std::move(r); },
             [&](caf::error& err) { error = to_failure(err).render(); });
  INFO(error);
  REQUIRE(results.size() == sids.size());
  for (size_t i = 0; i < sids.size(); ++i) {
    INFO(sids[i] << ": " << results[i].detail);
    CHECK(results[i].session_id == sids[i]);
    CHECK(results[i].error == 0);
    CHECK(results[i].creds.found);
    CHECK(results[i].creds.version == 3 + i);
  }
  CHECK(engine_counts(*e).sessions.passivations.load() >= 4);
  CHECK(read_throughs(*e, read_through_result::loaded) == sids.size());
}

} // namespace read_through_redistest
