// Tests of the node-ownership and membership scripts (issue #19:
// redis/scripts/own.lua, member.lua, include/check_owner.lua inside
// apply_patch and delete_session) against the test redis-server, called
// through their builders and readers in redis/layout.hpp, so both ends of
// each sentinel ({-8, ms, owner} owned, {-9, ms} member in use, {-10}
// not_owner: the ownership fence, distinct from the client lease's {-4}
// fenced) are checked together. Expiry is tested by moving the stored
// expiry into the past by hand (the scripts use Redis TIME), never by
// sleeping.
#include "redis/layout.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/redis/lua_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace lua_cluster_scripts_redistest {

using namespace authstore;
using namespace authstore::test;
using redis_layout::owner_token;

namespace {

outcome<redis_layout::ownership_result> take(lua_redis& db, const lua_keys& s,
                                             const owner_token& who,
                                             const std::string& node = "node-a",
                                             int64_t ttl_ms = 30000) {
  return redis_layout::parse_take_ownership(
    db.run(redis_layout::take_ownership(s.sid, who, node, ttl_ms)));
}

/// A write of creds field `me` = `value` by `who` (empty: owns nothing).
outcome<uint64_t> write(lua_redis& db, const lua_keys& s,
                        const owner_token& who, std::string value = "1") {
  patch p;
  p.set_creds("me", std::move(value));
  redis_layout::write_options opts;
  opts.owner = who;
  return redis_layout::parse_apply_patch(
    db.run(redis_layout::apply_patch(s.sid, p, opts)));
}

outcome<redis_layout::delete_result> erase(lua_redis& db, const lua_keys& s,
                                           const owner_token& who) {
  return redis_layout::parse_delete_session(db.run(redis_layout::delete_session(
    s.sid, false, redis_layout::wall_ms(), false, {}, who)));
}

/// Moves the stored record's expiry into the past (its term ran out).
void expire(lua_redis& db, const lua_keys& s) {
  REQUIRE(db.raw.integer({"HSET", s.own, "x", "1"}) == 0); // overwritten
}

/// The version a write got (the test stops when it got none).
uint64_t version_of(const outcome<uint64_t>& v) {
  INFO((v ? std::string{} : v.error().render()));
  REQUIRE(v);
  return *v;
}

const owner_token a1{"token-a", 1};
const owner_token a2{"token-a", 2};
const owner_token b1{"token-b", 1};

} // namespace

TEST_CASE("ownership is exclusive: another process is refused with the "
          "owner's node id and time left; the owner renews at its epoch",
          "[lua][issue-19]") {
  lua_redis db{lua_database::cluster_scripts};
  auto s = db.session();
  auto first = take(db, s, a1);
  REQUIRE(first);
  CHECK(first->owned);
  CHECK(first->epoch == 1);
  CHECK(first->ttl_ms == 30000);
  CHECK_FALSE(first->took_over); // nobody held it before
  auto other = take(db, s, b1, "node-b");
  REQUIRE(other);
  CHECK_FALSE(other->owned);
  CHECK(other->owner == "node-a");
  CHECK(other->expires_in_ms > 29000);
  CHECK(other->expires_in_ms <= 30000);
  auto renewed = take(db, s, a1, "node-a", 5000);
  REQUIRE(renewed);
  CHECK(renewed->owned);
  CHECK(renewed->epoch == 1);
  CHECK_FALSE(renewed->took_over);
  auto rec = db.hash(s.own);
  CHECK(rec.at("n") == "node-a");
  CHECK(rec.at("t") == "token-a");
  CHECK(rec.at("a") == "1");
}

TEST_CASE("a newer actor of the same process takes over at once, an older "
          "one never takes back",
          "[lua][issue-19]") {
  lua_redis db{lua_database::cluster_scripts};
  auto s = db.session();
  REQUIRE(take(db, s, a1)->epoch == 1);
  auto newer = take(db, s, a2);
  REQUIRE(newer);
  CHECK(newer->owned);
  CHECK(newer->epoch == 2);
  CHECK_FALSE(newer->took_over); // the same process: not a takeover
  // The passivated actor's late renewal.
  auto older = take(db, s, a1);
  REQUIRE(older);
  CHECK_FALSE(older->owned);
  CHECK(db.hash(s.own).at("a") == "2");
}

TEST_CASE("epochs are never reused: expiry and release each lead to a "
          "higher epoch for the next holder, also the same one",
          "[lua][issue-19]") {
  lua_redis db{lua_database::cluster_scripts};
  auto s = db.session();
  REQUIRE(take(db, s, a1)->epoch == 1);
  expire(db, s);
  auto after_expiry = take(db, s, b1, "node-b");
  REQUIRE(after_expiry);
  CHECK(after_expiry->owned);
  CHECK(after_expiry->epoch == 2);
  CHECK(after_expiry->took_over); // another process's record, expired
  auto released = redis_layout::parse_release_ownership(
    db.run(redis_layout::release_ownership(s.sid, b1)));
  REQUIRE(released);
  CHECK(*released);
  // Releasing what one does not hold changes nothing.
  CHECK_FALSE(*redis_layout::parse_release_ownership(
    db.run(redis_layout::release_ownership(s.sid, a1))));
  CHECK(db.hash(s.own).at("e") == "2");
  CHECK(db.hash(s.own).count("t") == 0);
  auto again = take(db, s, b1, "node-b");
  REQUIRE(again);
  CHECK(again->epoch == 3);
  CHECK_FALSE(again->took_over);
  // Another process after a release: released, not left to expire, so
  // not a takeover either.
  REQUIRE(*redis_layout::parse_release_ownership(
    db.run(redis_layout::release_ownership(s.sid, b1))));
  auto other = take(db, s, a1);
  REQUIRE(other);
  CHECK(other->owned);
  CHECK(other->epoch == 4);
  CHECK_FALSE(other->took_over);
}

TEST_CASE("a write or delete is applied only with the owner's token; a "
          "writer without one only while no live record exists",
          "[lua][issue-19]") {
  lua_redis db{lua_database::cluster_scripts};
  auto s = db.session();
  // Nobody owns the session: a writer without a token writes, one with a
  // token it does not hold is fenced.
  REQUIRE(version_of(write(db, s, {})) == 1);
  auto stray = write(db, s, a1);
  REQUIRE_FALSE(stray);
  CHECK(stray.error().code == errc::not_owner);
  REQUIRE(take(db, s, a1)->owned);
  REQUIRE(version_of(write(db, s, a1)) == 2);
  for (const auto& who : {b1, a2, owner_token{}}) {
    auto w = write(db, s, who, "x");
    REQUIRE_FALSE(w);
    CHECK(w.error().code == errc::not_owner);
    auto d = erase(db, s, who);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::not_owner);
  }
  // Nothing of the fenced writes landed.
  CHECK(db.hash(s.m).at("v") == "2");
  CHECK(db.hash(s.c).at("me") == "1");
  // An expired record still names its holder: it may write (nobody else
  // can hold the session), and so may a writer without a token.
  expire(db, s);
  CHECK(version_of(write(db, s, a1)) == 3);
  CHECK(version_of(write(db, s, {})) == 4);
  // After a takeover the former owner is fenced, and the new one writes.
  REQUIRE(take(db, s, b1, "node-b")->owned);
  CHECK(write(db, s, a1).error().code == errc::not_owner);
  CHECK(version_of(write(db, s, b1)) == 5);
  auto d = erase(db, s, b1);
  REQUIRE(d);
  CHECK(d->existed);
}

TEST_CASE("a write pipelined behind its take is judged by that take",
          "[lua][issue-19]") {
  // The session actor's first write follows its take on one connection,
  // before the take's answer is known: both go in one pipeline here.
  lua_redis db{lua_database::cluster_scripts};
  auto s = db.session();
  patch p;
  p.set_creds("me", "1");
  redis_layout::write_options opts;
  opts.owner = a1;
  auto t = redis_layout::take_ownership(s.sid, a1, "node-a", 30000);
  auto w = redis_layout::apply_patch(s.sid, p, opts);
  auto replies = db.pipeline({&t, &w});
  REQUIRE(replies.size() == 2);
  REQUIRE(replies[0]);
  REQUIRE(replies[1]);
  CHECK(redis_layout::parse_take_ownership(*replies[0])->owned);
  CHECK(version_of(redis_layout::parse_apply_patch(*replies[1])) == 1);
  // Another process's take and write in one pipeline: both refused.
  opts.owner = b1;
  auto t2 = redis_layout::take_ownership(s.sid, b1, "node-b", 30000);
  auto w2 = redis_layout::apply_patch(s.sid, p, opts);
  auto refused = db.pipeline({&t2, &w2});
  REQUIRE(refused.size() == 2);
  CHECK_FALSE(redis_layout::parse_take_ownership(*refused[0])->owned);
  CHECK(redis_layout::parse_apply_patch(*refused[1]).error().code
        == errc::not_owner);
}

TEST_CASE("members register with their address, see each other, and leave; "
          "a second process under one node id is refused",
          "[lua][issue-19]") {
  lua_redis db{lua_database::cluster_scripts};
  db.raw.command({"DEL", "as:members", "as:members:info"});
  auto beat = [&](const std::string& id, const std::string& token,
                  const std::string& addr) {
    return redis_layout::parse_member_beat(
      db.run(redis_layout::member_beat(id, token, addr, 5000)));
  };
  auto one = beat("n1", "t1", "127.0.0.1:7001");
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].node_id == "n1");
  CHECK((*one)[0].address == "127.0.0.1:7001");
  auto two = beat("n2", "t2", "127.0.0.1:7002");
  REQUIRE(two);
  CHECK(two->size() == 2);
  auto dup = beat("n1", "t9", "127.0.0.1:7009");
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == errc::invalid_config);
  // n2 stops heartbeating: its entry expires, and the next beat drops it.
  db.raw.command({"ZADD", "as:members", "1", "n2"});
  auto alone = beat("n1", "t1", "127.0.0.1:7001");
  REQUIRE(alone);
  REQUIRE(alone->size() == 1);
  CHECK((*alone)[0].node_id == "n1");
  CHECK(db.raw.integer({"HEXISTS", "as:members:info", "n2"}) == 0);
  // Leave: only the registered process's token removes the entry.
  db.run(redis_layout::member_leave("n1", "t9"));
  CHECK(db.raw.integer({"ZCARD", "as:members"}) == 1);
  db.run(redis_layout::member_leave("n1", "t1"));
  CHECK(db.raw.integer({"ZCARD", "as:members"}) == 0);
  CHECK(db.raw.integer({"HLEN", "as:members:info"}) == 0);
}

} // namespace lua_cluster_scripts_redistest
