// Tests of the client lease and key-id list scripts (redis/scripts/
// lease.lua, list_key_ids.lua, include/check_lease.lua inside apply_patch
// and delete_session) against the test redis-server, called through their
// builders and readers in redis/layout.hpp, so both ends of each sentinel
// ({-4} fenced, {-5, ms} in use, {-6, n} too many) are checked together.
// Expiry is tested by moving the stored expiry into the past by hand (the
// scripts use Redis TIME), never by sleeping.
#include "redis/layout.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/redis/lua_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace lua_lease_scripts_redistest {

using namespace authstore;
using namespace authstore::test;

namespace {

lease_request take(std::string holder, int64_t ttl_ms = 30000,
                   bool takeover = false) {
  return {std::move(holder), ttl_ms, takeover};
}

outcome<lease_reply> take_lease(lua_redis& db, const lua_keys& s,
                                const lease_request& req) {
  return redis_layout::parse_take_lease(
    db.run(redis_layout::take_lease(s.sid, req)));
}

/// A write of creds field `me` = `value` carrying `lease`.
outcome<uint64_t> write(lua_redis& db, const lua_keys& s, lease_token lease,
                        std::string value = "1") {
  patch p;
  p.set_creds("me", std::move(value));
  p.lease = std::move(lease);
  return redis_layout::parse_apply_patch(
    db.run(redis_layout::apply_patch(s.sid, p, {})));
}

/// Moves the stored lease's expiry into the past (as if its TTL ran out).
void expire(lua_redis& db, const lua_keys& s) {
  REQUIRE(db.raw.integer({"HSET", s.cl, "x", "1"}) == 0); // overwritten
}

} // namespace

TEST_CASE("a live lease is exclusive: another holder gets session_in_use "
          "with the time left; the same holder renews at the same epoch",
          "[lua][lease]") {
  lua_redis db{lua_database::lease_scripts};
  auto s = db.session();
  auto first = take_lease(db, s, take("holder-a"));
  REQUIRE(first);
  CHECK(first->epoch == 1);
  CHECK(first->ttl_ms == 30000);
  auto other = take_lease(db, s, take("holder-b"));
  REQUIRE_FALSE(other);
  CHECK(other.error().code == errc::session_in_use);
  CHECK(other.error().detail.find("expires in ") != std::string::npos);
  auto renewed = take_lease(db, s, take("holder-a", 5000));
  REQUIRE(renewed);
  CHECK(renewed->epoch == 1);
  CHECK(renewed->ttl_ms == 5000);
  CHECK(db.hash(s.cl).at("h") == "holder-a");
  // The server bounds the TTL: longer requests are shortened.
  auto capped = take_lease(db, s, take("holder-a", 10'000'000));
  REQUIRE(capped);
  CHECK(capped->ttl_ms == max_lease_ttl_ms);
}

TEST_CASE("epochs are never reused: takeover, expiry and release each lead "
          "to a higher epoch for the next holder",
          "[lua][lease]") {
  lua_redis db{lua_database::lease_scripts};
  auto s = db.session();
  REQUIRE(take_lease(db, s, take("a"))->epoch == 1);
  auto over = take_lease(db, s, take("b", 30000, true));
  REQUIRE(over);
  CHECK(over->epoch == 2);
  CHECK(db.hash(s.cl).at("h") == "b");
  // The old holder renewing now finds another holder: in use.
  CHECK(take_lease(db, s, take("a")).error().code == errc::session_in_use);
  expire(db, s);
  auto after_expiry = take_lease(db, s, take("a"));
  REQUIRE(after_expiry);
  CHECK(after_expiry->epoch == 3);
  // Release: only the holder's own; the counter stays.
  auto wrong = redis_layout::parse_release_lease(
    db.run(redis_layout::release_lease(s.sid, "b")));
  REQUIRE(wrong);
  CHECK_FALSE(*wrong);
  auto released = redis_layout::parse_release_lease(
    db.run(redis_layout::release_lease(s.sid, "a")));
  REQUIRE(released);
  CHECK(*released);
  CHECK(db.hash(s.cl) == std::map<std::string, std::string>{{"e", "3"}});
  auto again = take_lease(db, s, take("a"));
  REQUIRE(again);
  CHECK(again->epoch == 4);
  // The holder's own lease expired: renewing it is a new epoch too.
  expire(db, s);
  auto renewed_late = take_lease(db, s, take("a"));
  REQUIRE(renewed_late);
  CHECK(renewed_late->epoch == 5);
}

TEST_CASE("apply_patch applies a write only while its lease holds, and "
          "writes nothing when fenced",
          "[lua][lease]") {
  lua_redis db{lua_database::lease_scripts};
  auto s = db.session();
  // No lease record at all: a write carrying one is fenced.
  auto none = write(db, s, {"a", 1});
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::fenced);
  CHECK_FALSE(db.exists(s.m));
  REQUIRE(take_lease(db, s, take("a"))->epoch == 1);
  auto ok = write(db, s, {"a", 1});
  REQUIRE(ok);
  CHECK(*ok == 1);
  // Wrong epoch, wrong holder: fenced, nothing written.
  CHECK(write(db, s, {"a", 2}, "2").error().code == errc::fenced);
  CHECK(write(db, s, {"b", 1}, "2").error().code == errc::fenced);
  CHECK(db.hash(s.c).at("me") == "1");
  CHECK(db.hash(s.m).at("v") == "1");
  // A write without a lease is not fenced (leases are opt-in).
  REQUIRE(write(db, s, {}, "3"));
  // Takeover fences the first holder's next write in the same script.
  REQUIRE(take_lease(db, s, take("b", 30000, true))->epoch == 2);
  CHECK(write(db, s, {"a", 1}, "4").error().code == errc::fenced);
  REQUIRE(write(db, s, {"b", 2}, "5"));
  // An expired lease fences its own holder.
  expire(db, s);
  CHECK(write(db, s, {"b", 2}, "6").error().code == errc::fenced);
  CHECK(db.hash(s.c).at("me") == "5");
  CHECK(db.hash(s.m).at("v") == "3");
}

TEST_CASE("delete_session carrying a lease is fenced the same way and keeps "
          "the lease record",
          "[lua][lease]") {
  lua_redis db{lua_database::lease_scripts};
  auto s = db.session();
  REQUIRE(take_lease(db, s, take("a"))->epoch == 1);
  REQUIRE(write(db, s, {"a", 1}));
  auto fenced = redis_layout::parse_delete_session(
    db.run(redis_layout::delete_session(s.sid, false, 1, false, {"a", 7})));
  REQUIRE_FALSE(fenced);
  CHECK(fenced.error().code == errc::fenced);
  CHECK(db.exists(s.c));
  auto deleted = redis_layout::parse_delete_session(
    db.run(redis_layout::delete_session(s.sid, false, 1, false, {"a", 1})));
  REQUIRE(deleted);
  CHECK(deleted->existed);
  CHECK(deleted->version == 2);
  CHECK_FALSE(db.exists(s.c));
  CHECK(db.hash(s.cl).at("e") == "1");
  CHECK(db.raw.integer({"PTTL", s.cl}) == -1); // no TTL: epochs stay
}

TEST_CASE("list_key_ids lists one type's ids, sorted, at the version read, "
          "and refuses a hash over its bound",
          "[lua][list]") {
  lua_redis db{lua_database::lease_scripts};
  auto s = db.session();
  db.plant(s, {"4",
               {},
               {{"pre-key/2", "x"},
                {"pre-key/10", "x"},
                {"pre-key-x/1", "x"},
                {"session/1.0", "x"},
                {"pre-key/1", "x"}}});
  auto r = redis_layout::parse_list_key_ids(
    db.run(redis_layout::list_key_ids(s.sid, "pre-key")));
  REQUIRE(r);
  CHECK(r->version == 4);
  CHECK(r->ids == std::vector<std::string>{"1", "10", "2"});
  auto none = redis_layout::parse_list_key_ids(
    db.run(redis_layout::list_key_ids(s.sid, "tctoken")));
  REQUIRE(none);
  CHECK(none->ids.empty());
  auto capped = redis_layout::parse_list_key_ids(
    db.run(redis_layout::list_key_ids(s.sid, "pre-key", false, 4)));
  REQUIRE_FALSE(capped);
  CHECK(capped.error().code == errc::value_too_large);
  // Read-through: an unknown session is untraced, not an empty list.
  auto t = db.session();
  CHECK(redis_layout::untraced(
    db.run(redis_layout::list_key_ids(t.sid, "pre-key", true))));
}

} // namespace lua_lease_scripts_redistest
