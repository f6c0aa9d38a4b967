// Tests of the outbox's Lua scripts (redis/scripts/read_dirty, claim_dirty,
// clear_dirty, hold_claim, outbox_stats, sweep_dirty) on their own, against
// the test redis-server, with hand-built KEYS and ARGV: the outbox read and
// its claim, the compare-and-clear, the claim's hold and release, the
// backlog figures and the re-indexing sweep. Where a script answers a
// sentinel or a shape the reconciler depends on, the reply also goes
// through its C++ reader (redis/layout.hpp). The session scripts are in
// lua_scripts_redistest.cpp.
#include "redis/scripts.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <vector>

#include "redis/layout.hpp"
#include "tests/redis/lua_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace lua_outbox_scripts_redistest {

using namespace authstore;
using namespace authstore::test;

namespace {

using fields = std::map<std::string, std::string>;

/// KEYS of read_dirty (and the first four of claim_dirty).
std::vector<std::string> outbox_read_keys(const lua_keys& s) {
  return {s.m, s.c, s.k, s.o};
}

/// KEYS of clear_dirty.
std::vector<std::string> clear_keys(const lua_keys& s) {
  return {s.o, s.index, s.fields, s.l, s.m, s.c, s.k};
}

} // namespace

TEST_CASE("read_dirty reads every mark with the value it names, at one "
          "version",
          "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  db.plant(s, {"3",
               {{"me", "1"}},
               {{"pre-key/1", "2"}},
               {{"c:me", "3"},
                {"k:pre-key/1", "2"},
                {"k:pre-key/9", "3"},
                {"!erase", "1"},
                {"!v", "3"}}});
  auto r = db.call(redis_script::read_dirty, outbox_read_keys(s));
  // The outbox is a small hash: HGETALL keeps insertion order.
  CHECK(items_of(r)
        == std::vector<std::string>{"3", "c:me", "3", "1", "k:pre-key/1", "2",
                                    "2", "k:pre-key/9", "3", "<nil>", "!erase",
                                    "1", "<nil>", "!v", "3", "<nil>"});
  auto read = redis_layout::parse_read_dirty(r, s.sid);
  REQUIRE(read);
  CHECK(read->marks == 5);
  const auto& req = read->request;
  CHECK(req.version == 3);
  CHECK(req.erase);
  CHECK(req.erase_version == 1);
  REQUIRE(req.fields.size() == 3);
  CHECK(req.fields[0] == field_write{"c:me", false, "1"});
  CHECK(req.fields[1] == field_write{"k:pre-key/1", false, "2"});
  CHECK(req.fields[2] == field_write{"k:pre-key/9", true, ""});
  // A clean session answers its version alone.
  auto t = db.session();
  db.plant(t, {"8"});
  CHECK(items_of(db.call(redis_script::read_dirty, outbox_read_keys(t)))
        == std::vector<std::string>{"8"});
}

TEST_CASE("claim_dirty reads for the first reconciler and answers claimed to "
          "every other",
          "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  db.plant(s, {"2", {{"me", "1"}}, {}, {{"c:me", "2"}}});
  auto keys = outbox_read_keys(s);
  keys.push_back(s.l);
  auto first = db.call(redis_script::claim_dirty, keys, {"node-a", "60000"});
  CHECK(items_of(first) == std::vector<std::string>{"2", "c:me", "2", "1"});
  CHECK(db.raw.text({"GET", s.l}) == "node-a");
  auto lease = db.raw.integer({"PTTL", s.l});
  CHECK((lease > 0 && lease <= 60000));
  // Another reconciler, and the same one again (the claim is not
  // re-entrant): claimed, nothing read, the claim unchanged.
  for (const char* token : {"node-b", "node-a"}) {
    INFO(token);
    auto r = db.call(redis_script::claim_dirty, keys, {token, "60000"});
    CHECK(items_of(r) == std::vector<std::string>{"-2"});
    CHECK(redis_layout::answer_of(r) == redis_layout::script_answer::claimed);
    auto read = redis_layout::parse_read_dirty(r, s.sid);
    REQUIRE(read);
    CHECK(read->claimed_elsewhere);
    CHECK(read->marks == 0);
  }
  CHECK(db.raw.text({"GET", s.l}) == "node-a");
}

TEST_CASE("clear_dirty clears only marks at or below the persisted version",
          "[lua][outbox][invariant-1]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  db.plant(s, {"5",
               {{"me", "1"}},
               {{"pre-key/1", "2"}},
               {{"c:me", "3"}, {"k:pre-key/1", "5"}}});
  db.raw.command({"SET", s.fields, "2"});
  db.raw.command({"ZADD", s.index, "100", s.sid});
  db.raw.command({"SET", s.l, "node-a"});
  // The cold store has version 4: the write at 5 stays dirty, the index
  // entry is re-stamped, no TTL, the claim is released.
  auto r = db.call(redis_script::clear_dirty, clear_keys(s),
                   {"4", s.sid, "node-a", "500", "60000"});
  CHECK(items_of(r) == std::vector<std::string>{"1", "1"});
  auto c = redis_layout::parse_clear_dirty(r);
  REQUIRE(c);
  CHECK(c->cleared == 1);
  CHECK(c->remaining == 1);
  CHECK(db.hash(s.o) == fields{{"k:pre-key/1", "5"}});
  CHECK(db.raw.text({"GET", s.fields}) == "1");
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "500");
  CHECK(db.raw.integer({"PTTL", s.m}) == -1);
  CHECK_FALSE(db.exists(s.l));
  // Version 5 confirmed, by a reconciler whose claim another holds now:
  // the session is clean (index entry gone, hot TTL set), the other's claim
  // stays.
  db.raw.command({"SET", s.l, "node-b"});
  r = db.call(redis_script::clear_dirty, clear_keys(s),
              {"5", s.sid, "node-a", "600", "60000"});
  CHECK(items_of(r) == std::vector<std::string>{"1", "0"});
  CHECK_FALSE(db.exists(s.o));
  CHECK(db.raw.text({"GET", s.fields}) == "0");
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "<nil>");
  for (const auto& key : {s.m, s.c, s.k}) {
    auto ttl = db.raw.integer({"PTTL", key});
    CHECK((ttl > 0 && ttl <= 60000));
  }
  CHECK(db.raw.text({"GET", s.l}) == "node-b");
}

TEST_CASE("clear_dirty keeps marks that are not versions, sets no TTL with "
          "ttl 0, and chunks beyond Lua's unpack limit",
          "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  db.plant(s, {"2", {}, {}, {{"c:me", "x"}}});
  CHECK(items_of(db.call(redis_script::clear_dirty, clear_keys(s),
                         {"2", s.sid, "", "1", "0"}))
        == std::vector<std::string>{"0", "1"});
  CHECK(db.hash(s.o) == fields{{"c:me", "x"}});

  auto t = db.session();
  db.plant(t, {"1"});
  const int n = beyond_unpack_limit;
  require_unpack_refuses(db, n);
  std::vector<std::string> marks{"HSET", t.o};
  for (int i = 0; i < n; ++i)
    marks.insert(marks.end(), {"k:pre-key/" + std::to_string(i), "1"});
  db.raw.command(marks);
  db.raw.command({"SET", t.fields, std::to_string(n)});
  CHECK(items_of(db.call(redis_script::clear_dirty, clear_keys(t),
                         {"1", t.sid, "", "1", "0"}))
        == std::vector<std::string>{std::to_string(n), "0"});
  CHECK_FALSE(db.exists(t.o));
  CHECK(db.raw.text({"GET", t.fields}) == "0");
  CHECK(db.raw.integer({"PTTL", t.m}) == -1);
}

TEST_CASE("hold_claim extends or releases only the holder's claim",
          "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  auto hold = [&](const std::string& token, const std::string& ms) {
    return redis_layout::parse_flag(
      db.call(redis_script::hold_claim, {s.l}, {token, ms}));
  };
  CHECK_FALSE(*hold("node-a", "1000")); // no claim at all
  CHECK_FALSE(db.exists(s.l));
  db.raw.command({"SET", s.l, "node-b", "PX", "1000"});
  CHECK_FALSE(*hold("node-a", "60000"));
  CHECK_FALSE(*hold("node-a", "0"));
  CHECK(db.raw.text({"GET", s.l}) == "node-b");
  CHECK(db.raw.integer({"PTTL", s.l}) <= 1000);
  CHECK(*hold("node-b", "60000"));
  CHECK(db.raw.integer({"PTTL", s.l}) > 1000);
  CHECK(*hold("node-b", "0"));
  CHECK_FALSE(db.exists(s.l));
}

TEST_CASE("outbox_stats reads the backlog in one call", "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  auto s = db.session();
  std::vector<std::string> keys{s.index, s.fields, s.quarantine};
  CHECK(items_of(db.call(redis_script::outbox_stats, keys))
        == std::vector<std::string>{"0", "0", "", "0"});
  db.raw.command({"ZADD", s.index, "100", "a", "50", "b"});
  db.raw.command({"SET", s.fields, "7"});
  db.raw.command({"ZADD", s.quarantine, "1", "q"});
  auto r = db.call(redis_script::outbox_stats, keys);
  CHECK(items_of(r) == std::vector<std::string>{"2", "7", "50", "1"});
  auto x = redis_layout::parse_outbox_stats(r, 150);
  REQUIRE(x);
  CHECK(x->sessions == 2);
  CHECK(x->fields == 7);
  CHECK(x->oldest_age_ms == 100);
  CHECK(x->quarantined == 1);
}

TEST_CASE("sweep_dirty re-indexes lost outboxes, but not quarantined ones",
          "[lua][outbox]") {
  lua_redis db{lua_database::outbox_scripts};
  // This file's database holds only this suite's outboxes; drop those a
  // crashed earlier run may have left, so the pass's count is exact.
  auto old = db.raw.command({"KEYS", "as:{luatest-*}:o"});
  for (size_t i = 0; i < old->elements; ++i)
    db.raw.command(
      {"DEL", std::string(old->element[i]->str, old->element[i]->len)});
  auto lost = db.session();
  auto indexed = db.session();
  auto parked = db.session();
  // The index and quarantine keys of `lost` serve as the sweep's.
  const auto& index = lost.index;
  const auto& quarantine = lost.quarantine;
  for (const auto* s : {&lost, &indexed, &parked})
    db.plant(s->o, {{"c:me", "1"}});
  db.raw.command({"ZADD", index, "1", indexed.sid});
  db.raw.command({"ZADD", quarantine, "1", parked.sid});
  auto all = db.raw.command({"KEYS", "as:{*}:o"});
  REQUIRE(all->elements == 3);
  // A small COUNT, so that the pass takes several steps.
  std::string cursor = "0";
  uint64_t reindexed = 0;
  int steps = 0;
  do {
    auto step = redis_layout::parse_sweep_dirty(db.call(
      redis_script::sweep_dirty, {index, quarantine}, {cursor, "1", "777"}));
    REQUIRE(step);
    cursor = step->cursor;
    reindexed += step->reindexed;
  } while (cursor != "0" && ++steps < 1000);
  CHECK(cursor == "0");
  CHECK(reindexed == 1);
  CHECK(db.raw.text({"ZSCORE", index, lost.sid}) == "777");
  CHECK(db.raw.text({"ZSCORE", index, indexed.sid}) == "1"); // NX
  CHECK(db.raw.text({"ZSCORE", index, parked.sid}) == "<nil>");
}

} // namespace lua_outbox_scripts_redistest
