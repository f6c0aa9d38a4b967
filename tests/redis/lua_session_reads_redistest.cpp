// Tests of the whole-session scripts of issue #16 on their own, against the
// test redis-server: read_session (one snapshot of a session, bounded like
// one patch) and scan_sessions (a SCAN walk naming live sessions), called
// with hand-built KEYS and ARGV as their comment blocks state them; each
// reply also goes through its C++ reader (redis/layout.hpp).
#include "redis/layout.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "tests/redis/lua_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace lua_session_reads_redistest {

using namespace authstore;
using namespace authstore::test;

TEST_CASE("read_session answers creds, keys and version in one call",
          "[lua][issue-16]") {
  lua_redis db{lua_database::session_reads};
  auto s = db.session();
  db.plant(s, {"7",
               {{"me", R"({"id":"x"})"}},
               {{"pre-key/1", "\"A\""}, {"session/9.0", "\"B\""}}});
  auto r = db.call(redis_script::read_session, {s.m, s.c, s.k},
                   {"1", "100", "1000"});
  auto items = items_of(r);
  REQUIRE(items.size() == 3 + 2 * 3);
  CHECK(items[0] == "7");
  CHECK(items[1] == "1"); // live
  CHECK(items[2] == "1"); // one creds pair first
  auto snap = redis_layout::parse_read_session(r);
  REQUIRE(snap);
  CHECK(snap->found);
  CHECK(snap->version == 7);
  std::set<std::pair<std::string, std::string>> got;
  for (const auto& w : snap->fields) {
    CHECK_FALSE(w.erase);
    got.emplace(w.field, w.value);
  }
  CHECK(got
        == std::set<std::pair<std::string, std::string>>{
          {"c:me", R"({"id":"x"})"},
          {"k:pre-key/1", "\"A\""},
          {"k:session/9.0", "\"B\""}});
  CHECK(snap->fields.front().field == "c:me"); // creds come first
}

TEST_CASE("read_session: no session and a tombstone are successful reads of "
          "nothing",
          "[lua][issue-16][invariant-4]") {
  lua_redis db{lua_database::session_reads};
  auto none = db.session();
  auto r = redis_layout::parse_read_session(db.call(
    redis_script::read_session, {none.m, none.c, none.k}, {"0", "10", "99"}));
  REQUIRE(r);
  CHECK_FALSE(r->found);
  CHECK(r->version == 0);
  CHECK(r->fields.empty());
  auto dead = db.session();
  db.raw.command({"HSET", dead.m, "v", "4", "d", "1"});
  auto t = redis_layout::parse_read_session(db.call(
    redis_script::read_session, {dead.m, dead.c, dead.k}, {"1", "10", "99"}));
  REQUIRE(t);
  CHECK_FALSE(t->found);
  CHECK(t->version == 4);
}

TEST_CASE("read_session refuses a session larger than one patch, by fields "
          "before reading and by bytes after",
          "[lua][issue-16]") {
  lua_redis db{lua_database::session_reads};
  auto s = db.session();
  db.plant(s,
           {"2", {{"me", "12345"}}, {{"pre-key/1", "1"}, {"pre-key/2", "2"}}});
  // Three fields: at most two may be read.
  auto by_count = db.call(redis_script::read_session, {s.m, s.c, s.k},
                          {"0", "2", "100000"});
  CHECK(items_of(by_count) == std::vector<std::string>{"-7", "3", "0"});
  CHECK(redis_layout::answer_of(by_count)
        == redis_layout::script_answer::too_large);
  auto f = redis_layout::parse_read_session(by_count);
  REQUIRE_FALSE(f);
  CHECK(f.error().code == errc::value_too_large);
  CHECK(f.error().detail.find("codec.max-writes") != std::string::npos);
  // Bytes as patch::payload_bytes counts them: "c:me" + "12345" = 9,
  // "k:pre-key/1" + "1" = 12, twice: 33.
  auto fits
    = db.call(redis_script::read_session, {s.m, s.c, s.k}, {"0", "3", "33"});
  CHECK(redis_layout::answer_of(fits) == redis_layout::script_answer::payload);
  auto by_bytes
    = db.call(redis_script::read_session, {s.m, s.c, s.k}, {"0", "3", "32"});
  CHECK(items_of(by_bytes) == std::vector<std::string>{"-7", "3", "33"});
  CHECK(redis_layout::parse_read_session(by_bytes).error().code
        == errc::value_too_large);
  // The same measure on the C++ side.
  patch p;
  p.set_creds("me", "12345");
  p.set_key("pre-key", "1", "1");
  p.set_key("pre-key", "2", "2");
  CHECK(p.payload_bytes() == 33);
}

TEST_CASE("scan_sessions walks every live session, leaving tombstones out",
          "[lua][issue-16]") {
  lua_redis db{lua_database::session_reads};
  std::set<std::string> live;
  for (int i = 0; i < 25; ++i) {
    auto s = db.session("scan");
    db.plant(s, {"1", {{"me", "1"}}});
    live.insert(s.sid);
  }
  auto dead = db.session("scan");
  db.raw.command({"HSET", dead.m, "v", "3", "d", "1"});
  auto other = db.session("scan");
  db.plant(other.o, {{"c:me", "1"}}); // an outbox is no session meta
  std::set<std::string> seen;
  std::string cursor = "0";
  int steps = 0;
  do {
    auto page = redis_layout::parse_scan_sessions(
      db.call(redis_script::scan_sessions, {}, {cursor, "5"}));
    REQUIRE(page);
    seen.insert(page->ids.begin(), page->ids.end());
    cursor = page->cursor;
    REQUIRE(++steps < 1000);
  } while (cursor != "0");
  for (const auto& sid : live) {
    INFO(sid);
    CHECK(seen.count(sid) == 1);
  }
  CHECK(seen.count(dead.sid) == 0);
  CHECK(seen.count(other.sid) == 0);
}

} // namespace lua_session_reads_redistest
