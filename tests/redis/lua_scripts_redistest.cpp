// Tests of the Lua scripts of redis/scripts/ on their own, against the test
// redis-server: every script compiles and carries the flags Redis reads,
// and the session scripts (apply_patch, read_creds, read_keys,
// delete_session, touch_session, exists_session, warm_session) do what
// their comment blocks say, called with hand-built KEYS and ARGV. The
// outbox scripts are in lua_outbox_scripts_redistest.cpp. Where a script
// answers a sentinel, the reply also goes through its C++ reader
// (redis/layout.hpp): the two ends of that coupling must agree.
#include "redis/scripts.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "messages/codec.hpp"
#include "redis/layout.hpp"
#include "tests/redis/lua_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace lua_scripts_redistest {

using namespace authstore;
using namespace authstore::test;
using redis_layout::script_name;

namespace {

/// KEYS of apply_patch and delete_session.
std::vector<std::string> write_keys(const lua_keys& s) {
  return {s.m, s.c, s.k, s.o, s.index, s.fields, s.cl};
}

/// `argv` of apply_patch or delete_session with the last two ARGV of a
/// write without a client lease (holder '', epoch 0).
std::vector<std::string> unleased(std::vector<std::string> argv) {
  argv.push_back("");
  argv.push_back("0");
  return argv;
}

/// An absolute expiry a minute from now, as the scripts take it.
std::string in_a_minute() {
  return std::to_string(redis_layout::wall_ms() + 60000);
}

/// Whether the key has a TTL of at most a minute.
bool expires_within_a_minute(lua_redis& db, const std::string& key) {
  auto ttl = db.raw.integer({"PTTL", key});
  return ttl > 0 && ttl <= 60000;
}

} // namespace

TEST_CASE("every script compiles in Redis, and a broken one is named",
          "[lua]") {
  lua_redis db{lua_database::session_scripts};
  for (auto s : redis_layout::all_scripts()) {
    auto src = std::string{redis_layout::script_source(s)};
    auto r = db.raw.command({"SCRIPT", "LOAD", src});
    INFO(script_name(s) << ": " << std::string(r->str ? r->str : "", r->len));
    REQUIRE(r->type == REDIS_REPLY_STRING);
    CHECK(r->len == 40); // a SHA1
  }
}

TEST_CASE("Redis reads each script's flags: only no-writes scripts run on "
          "EVALSHA_RO",
          "[lua]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  // A valid call of each no-writes script; the others must be refused
  // before they run, so they get no arguments at all.
  const std::map<redis_script, std::vector<std::string>> read_only = {
    {redis_script::read_creds, {"2", s.m, s.c, "0"}},
    {redis_script::read_keys, {"2", s.m, s.k, "0", "pre-key/1"}},
    {redis_script::read_dirty, {"4", s.m, s.c, s.k, s.o}},
    {redis_script::outbox_stats, {"3", s.index, s.fields, s.quarantine}},
    {redis_script::exists_session, {"1", s.m, "0"}},
    {redis_script::read_session, {"3", s.m, s.c, s.k, "0", "100", "1000"}},
    {redis_script::scan_sessions, {"0", "0", "10"}},
    {redis_script::list_key_ids, {"2", s.m, s.k, "0", "pre-key", "10"}},
  };
  for (auto script : redis_layout::all_scripts()) {
    auto src = std::string{redis_layout::script_source(script)};
    auto sha = db.raw.text({"SCRIPT", "LOAD", src});
    std::vector<std::string> argv{"EVALSHA_RO", sha};
    auto args = read_only.find(script);
    if (args != read_only.end())
      argv.insert(argv.end(), args->second.begin(), args->second.end());
    else
      argv.push_back("0");
    auto r = db.raw.command(argv);
    std::string error = r->type == REDIS_REPLY_ERROR
                          ? std::string(r->str, r->len)
                          : std::string{};
    INFO(script_name(script) << ": " << error);
    if (args != read_only.end())
      CHECK(r->type != REDIS_REPLY_ERROR);
    else
      CHECK(error.find("write flag") != std::string::npos);
  }
}

TEST_CASE("apply_patch writes, versions and marks a patch in one call",
          "[lua][invariant-2]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  auto r = db.call(redis_script::apply_patch, write_keys(s),
                   unleased({"", "0", "1000", s.sid, "1", "0", //
                             "s", "c:me", R"({"id":1})",       //
                             "s", "k:pre-key/1", "\"A\"",      //
                             "d", "k:pre-key/2", ""}));
  CHECK(items_of(r) == std::vector<std::string>{"1"});
  auto v = redis_layout::parse_apply_patch(r);
  REQUIRE(v);
  CHECK(*v == 1);
  using fields = std::map<std::string, std::string>;
  CHECK(db.hash(s.m) == fields{{"v", "1"}});
  CHECK(db.hash(s.c) == fields{{"me", R"({"id":1})"}});
  CHECK(db.hash(s.k) == fields{{"pre-key/1", "\"A\""}});
  // Marks name fields and versions, never values.
  CHECK(db.hash(s.o)
        == fields{{"c:me", "1"}, {"k:pre-key/1", "1"}, {"k:pre-key/2", "1"}});
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "1000");
  CHECK(db.raw.text({"GET", s.fields}) == "3");
  for (const auto& key : {s.m, s.c, s.k})
    CHECK(db.raw.integer({"PTTL", key}) == -1); // dirty: no TTL
  // The next write at the expected version: a mark moves, none is added,
  // and the index keeps the time the session first became dirty.
  r = db.call(
    redis_script::apply_patch, write_keys(s),
    unleased({"1", "0", "2000", s.sid, "1", "0", "d", "k:pre-key/1", ""}));
  CHECK(items_of(r) == std::vector<std::string>{"2"});
  CHECK_FALSE(db.exists(s.k));
  CHECK(db.hash(s.o).at("k:pre-key/1") == "2");
  CHECK(db.raw.text({"GET", s.fields}) == "3");
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "1000");
}

TEST_CASE("apply_patch refuses a stale expected version and writes nothing",
          "[lua][invariant-2]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  db.call(redis_script::apply_patch, write_keys(s),
          unleased({"", "0", "1", s.sid, "0", "0", "s", "c:me", "1"}));
  auto r
    = db.call(redis_script::apply_patch, write_keys(s),
              unleased({"7", "0", "1", s.sid, "0", "0", "s", "c:me", "2"}));
  CHECK(items_of(r) == std::vector<std::string>{"-1", "1"});
  CHECK(redis_layout::answer_of(r) == redis_layout::script_answer::conflict);
  auto v = redis_layout::parse_apply_patch(r);
  REQUIRE_FALSE(v);
  CHECK(v.error().code == errc::version_conflict);
  CHECK(v.error().detail == "session is at version 1");
  CHECK(db.raw.text({"HGET", s.c, "me"}) == "1");
  CHECK(db.raw.text({"HGET", s.m, "v"}) == "1");
}

TEST_CASE("session scripts with require_trace answer untraced and touch "
          "nothing when Redis has no meta hash",
          "[lua][read-through]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  auto write = write_keys(s);
  const std::vector<std::pair<redis_script, redis_reply>> calls = {
    {redis_script::apply_patch,
     db.call(redis_script::apply_patch, write,
             unleased({"", "0", "1", s.sid, "1", "1", "s", "c:me", "1"}))},
    {redis_script::read_creds,
     db.call(redis_script::read_creds, {s.m, s.c}, {"1"})},
    {redis_script::read_keys,
     db.call(redis_script::read_keys, {s.m, s.k}, {"1", "pre-key/1"})},
    {redis_script::delete_session, db.call(redis_script::delete_session, write,
                                           unleased({s.sid, "1", "1", "1"}))},
    {redis_script::touch_session,
     db.call(redis_script::touch_session, {s.m, s.c, s.k, s.o}, {"0", "1"})},
    {redis_script::exists_session,
     db.call(redis_script::exists_session, {s.m}, {"1"})},
    {redis_script::read_session,
     db.call(redis_script::read_session, {s.m, s.c, s.k}, {"1", "10", "99"})},
  };
  for (const auto& [script, r] : calls) {
    INFO(script_name(script));
    CHECK(items_of(r) == std::vector<std::string>{"-3"});
    CHECK(redis_layout::untraced(r));
  }
  for (const auto& key : s.all()) {
    INFO(key);
    CHECK_FALSE(db.exists(key));
  }
  // Without require_trace the same session reads as empty at version 0.
  auto creds = db.call(redis_script::read_creds, {s.m, s.c}, {"0"});
  CHECK(items_of(creds) == std::vector<std::string>{"0"});
  CHECK_FALSE(redis_layout::untraced(creds));
}

TEST_CASE("apply_patch checks every field before its first write", "[lua]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  // The second triple is bad (ARGV[10]); the first must not land.
  auto bad_prefix = db.try_call(redis_script::apply_patch, write_keys(s),
                                unleased({"", "0", "1", s.sid, "1", "0", "s",
                                          "c:me", "1", "s", "x:me", "2"}));
  REQUIRE_FALSE(bad_prefix);
  CHECK(bad_prefix.error().detail.find("authstore: bad field at 10")
        != std::string::npos);
  auto bad_op
    = db.try_call(redis_script::apply_patch, write_keys(s),
                  unleased({"", "0", "1", s.sid, "1", "0", "z", "c:me", "1"}));
  REQUIRE_FALSE(bad_op);
  CHECK(bad_op.error().detail.find("bad field at 7") != std::string::npos);
  for (const auto& key : s.all()) {
    INFO(key);
    CHECK_FALSE(db.exists(key));
  }
}

TEST_CASE("apply_patch chunks lists beyond Lua's unpack limit", "[lua]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  const int n = beyond_unpack_limit;
  const int deleted = beyond_unpack_limit - 400;
  require_unpack_refuses(db, deleted);
  std::vector<std::string> sets{"", "0", "1", s.sid, "1", "0"};
  std::vector<std::string> dels{"1", "0", "1", s.sid, "1", "0"};
  for (int i = 0; i < n; ++i) {
    auto field = "k:pre-key/" + std::to_string(i);
    sets.insert(sets.end(), {"s", field, std::to_string(i)});
    if (i < deleted)
      dels.insert(dels.end(), {"d", field, ""});
  }
  // 2n HSET arguments and 2n mark elements, each list in chunks.
  CHECK(
    items_of(db.call(redis_script::apply_patch, write_keys(s), unleased(sets)))
    == std::vector<std::string>{"1"});
  CHECK(db.raw.integer({"HLEN", s.k}) == n);
  CHECK(db.raw.integer({"HLEN", s.o}) == n);
  CHECK(db.raw.text({"GET", s.fields}) == std::to_string(n));
  auto last = std::to_string(n - 1);
  CHECK(db.raw.text({"HGET", s.k, "pre-key/" + last}) == last);
  // The deletes, in chunks too; their marks move, none is added.
  CHECK(
    items_of(db.call(redis_script::apply_patch, write_keys(s), unleased(dels)))
    == std::vector<std::string>{"2"});
  CHECK(db.raw.integer({"HLEN", s.k}) == n - deleted);
  auto last_deleted = "pre-key/" + std::to_string(deleted - 1);
  CHECK(db.raw.text({"HGET", s.k, last_deleted}) == "<nil>");
  CHECK(db.raw.text({"HGET", s.o, "k:" + last_deleted}) == "2");
  CHECK(db.raw.text({"HGET", s.o, "k:pre-key/" + std::to_string(deleted)})
        == "1");
  CHECK(db.raw.text({"GET", s.fields}) == std::to_string(n));
}

TEST_CASE("apply_patch: a patch without writes leaves the watermark mark; "
          "untracked writes get the TTL; a write revives a tombstone",
          "[lua][invariant-6]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(s),
                         unleased({"", "0", "5", s.sid, "1", "0"})))
        == std::vector<std::string>{"1"});
  CHECK(db.hash(s.o) == std::map<std::string, std::string>{{"!v", "1"}});
  CHECK(db.raw.text({"GET", s.fields}) == "1");

  auto t = db.session();
  db.call(redis_script::apply_patch, write_keys(t),
          unleased({"", in_a_minute(), "5", t.sid, "0", "0", "s", "c:me", "1",
                    "s", "k:pre-key/1", "2"}));
  for (const auto& key : {t.m, t.c, t.k})
    CHECK(expires_within_a_minute(db, key));
  CHECK_FALSE(db.exists(t.o));
  CHECK(db.raw.text({"ZSCORE", t.index, t.sid}) == "<nil>");
  // A tracked write makes it dirty: the TTL goes.
  db.call(
    redis_script::apply_patch, write_keys(t),
    unleased({"", in_a_minute(), "5", t.sid, "1", "0", "s", "c:me", "3"}));
  for (const auto& key : {t.m, t.c, t.k})
    CHECK(db.raw.integer({"PTTL", key}) == -1);

  auto u = db.session();
  db.raw.command({"HSET", u.m, "v", "5", "d", "1"});
  CHECK(items_of(
          db.call(redis_script::apply_patch, write_keys(u),
                  unleased({"", "0", "5", u.sid, "0", "1", "s", "c:me", "1"})))
        == std::vector<std::string>{"6"});
  CHECK(db.hash(u.m) == std::map<std::string, std::string>{{"v", "6"}});
}

TEST_CASE("apply_patch 'absent' writes only where no live session is: "
          "none, or a tombstone",
          "[lua][invariant-2][issue-16]") {
  lua_redis db{lua_database::session_scripts};
  using fields = std::map<std::string, std::string>;
  // None: created at version 1.
  auto s = db.session();
  CHECK(items_of(db.call(
          redis_script::apply_patch, write_keys(s),
          unleased({"absent", "0", "1", s.sid, "0", "0", "s", "c:me", "1"})))
        == std::vector<std::string>{"1"});
  // Live: a conflict naming its version, and nothing written.
  auto again = db.call(redis_script::apply_patch, write_keys(s),
                       unleased({"absent", "0", "1", s.sid, "0", "0", "s",
                                 "c:me", "2", "s", "k:pre-key/1", "3"}));
  CHECK(items_of(again) == std::vector<std::string>{"-1", "1"});
  CHECK(redis_layout::parse_apply_patch(again).error().code
        == errc::version_conflict);
  CHECK(db.hash(s.c) == fields{{"me", "1"}});
  CHECK_FALSE(db.exists(s.k));
  // A tombstone is no session: written, its versions continued.
  auto t = db.session();
  db.raw.command({"HSET", t.m, "v", "8", "d", "1"});
  CHECK(items_of(db.call(
          redis_script::apply_patch, write_keys(t),
          unleased({"absent", "0", "1", t.sid, "0", "0", "s", "c:me", "1"})))
        == std::vector<std::string>{"9"});
  CHECK(db.hash(t.m) == fields{{"v", "9"}});
  // An expected version 0 is not the same: the tombstone is at 8.
  auto u = db.session();
  db.raw.command({"HSET", u.m, "v", "8", "d", "1"});
  CHECK(items_of(
          db.call(redis_script::apply_patch, write_keys(u),
                  unleased({"0", "0", "1", u.sid, "0", "0", "s", "c:me", "1"})))
        == std::vector<std::string>{"-1", "8"});
}

TEST_CASE("apply_patch replace drops the old state in the same call, "
          "numbered as a delete then a write",
          "[lua][invariant-2][invariant-3][issue-16]") {
  lua_redis db{lua_database::session_scripts};
  using fields = std::map<std::string, std::string>;
  auto s = db.session();
  db.plant(s, {"3",
               {{"me", "1"}, {"old", "2"}},
               {{"pre-key/1", "A"}, {"pre-key/2", "B"}},
               {{"c:old", "3"}, {"k:pre-key/1", "2"}}});
  db.raw.command({"SET", s.fields, "2"});
  auto r = db.call(redis_script::apply_patch, write_keys(s),
                   unleased({"", "0", "7", s.sid, "1", "0", "!", "1", "0", //
                             "s", "c:me", "9", "s", "k:pre-key/9", "Z"}));
  // The delete took 4, the writes 5.
  CHECK(items_of(r) == std::vector<std::string>{"5"});
  CHECK(db.hash(s.m) == fields{{"v", "5"}});
  CHECK(db.hash(s.c) == fields{{"me", "9"}});
  CHECK(db.hash(s.k) == fields{{"pre-key/9", "Z"}});
  // The old marks became one erase mark at the delete's version, below the
  // writes' marks: the cold store drops everything up to 4, keeps 5.
  CHECK(db.hash(s.o)
        == fields{{"!erase", "4"}, {"c:me", "5"}, {"k:pre-key/9", "5"}});
  CHECK(db.raw.text({"GET", s.fields}) == "3"); // 2 marks gone, 3 new
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "7");

  // A replace over nothing, untracked: a plain create at 1.
  auto t = db.session();
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(t),
                         unleased({"", "0", "7", t.sid, "0", "0", "!", "1", "0",
                                   "s", "c:me", "1"})))
        == std::vector<std::string>{"1"});
  CHECK_FALSE(db.exists(t.o));
  // Over a tombstone, tracked: the erase mark at the next version, as a
  // delete of it would take.
  auto u = db.session();
  db.raw.command({"HSET", u.m, "v", "6", "d", "1"});
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(u),
                         unleased({"", "0", "7", u.sid, "1", "0", "!", "1", "0",
                                   "s", "c:me", "1"})))
        == std::vector<std::string>{"8"});
  CHECK(db.hash(u.o) == fields{{"!erase", "7"}, {"c:me", "8"}});
  CHECK(db.hash(u.m) == fields{{"v", "8"}});
}

TEST_CASE("apply_patch min version raises the new version, never lowers it",
          "[lua][invariant-2][issue-16]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(s),
                         unleased({"absent", "0", "1", s.sid, "1", "0", "!",
                                   "0", "42", "s", "c:me", "1"})))
        == std::vector<std::string>{"42"});
  CHECK(db.hash(s.o).at("c:me") == "42");
  // Below the next version: the next version.
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(s),
                         unleased({"", "0", "1", s.sid, "1", "0", "!", "0",
                                   "10", "s", "c:me", "2"})))
        == std::vector<std::string>{"43"});
  // With replace: above the delete's version too.
  CHECK(items_of(db.call(redis_script::apply_patch, write_keys(s),
                         unleased({"", "0", "1", s.sid, "1", "0", "!", "1",
                                   "44", "s", "c:me", "3"})))
        == std::vector<std::string>{"45"});
  CHECK(db.hash(s.o).at("!erase") == "44");
}

TEST_CASE("apply_patch refuses malformed options before its first write",
          "[lua][issue-16]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  db.plant(s, {"2", {{"me", "1"}}});
  auto bad = db.try_call(
    redis_script::apply_patch, write_keys(s),
    unleased({"", "0", "1", s.sid, "1", "0", "!", "1", "x", "s", "c:me", "2"}));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail.find("bad options at 7") != std::string::npos);
  // A bad write after the options: named by its own position.
  auto bad_field
    = db.try_call(redis_script::apply_patch, write_keys(s),
                  unleased({"", "0", "1", s.sid, "1", "0", "!", "1", "0", "s",
                            "c:me", "2", "s", "x:y", "3"}));
  REQUIRE_FALSE(bad_field);
  CHECK(bad_field.error().detail.find("bad field at 13") != std::string::npos);
  // Replace did not run: the old creds are there, the version is 2.
  CHECK(db.hash(s.c) == std::map<std::string, std::string>{{"me", "1"}});
  CHECK(db.raw.text({"HGET", s.m, "v"}) == "2");
  CHECK_FALSE(db.exists(s.o));
}

TEST_CASE("read_creds and read_keys read values and the version", "[lua]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  db.plant(s, {"3",
               {{"me", R"({"id":"x"})"}, {"n", "5"}},
               {{"pre-key/1", "\"A\""}, {"pre-key/3", "\"C\""}}});
  auto creds = db.call(redis_script::read_creds, {s.m, s.c}, {"1"});
  CHECK(items_of(creds).size() == 5);
  auto c = redis_layout::parse_read_creds(creds);
  REQUIRE(c);
  CHECK(c->found);
  CHECK(c->version == 3);
  auto doc = json::parse(c->creds_json);
  CHECK(doc == json::parse(R"({"me":{"id":"x"},"n":5})"));
  auto keys = db.call(redis_script::read_keys, {s.m, s.k},
                      {"1", "pre-key/1", "pre-key/2", "pre-key/3"});
  CHECK(items_of(keys)
        == std::vector<std::string>{"3", "\"A\"", "<nil>", "\"C\""});
  // A session with a version but no creds: a successful not-found.
  auto t = db.session();
  db.plant(t, {"2"});
  auto none = redis_layout::parse_read_creds(
    db.call(redis_script::read_creds, {t.m, t.c}, {"1"}));
  REQUIRE(none);
  CHECK_FALSE(none->found);
  CHECK(none->version == 2);
}

TEST_CASE("delete_session takes the next version, keeps a tombstone and "
          "turns the marks into one erase mark",
          "[lua][invariant-2]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  db.plant(s, {"4",
               {{"me", "1"}},
               {{"pre-key/1", "2"}},
               {{"c:me", "4"}, {"k:pre-key/1", "3"}}});
  db.raw.command({"SET", s.fields, "2"});
  db.raw.command({"ZADD", s.index, "100", s.sid});
  auto r = db.call(redis_script::delete_session, write_keys(s),
                   unleased({s.sid, "1", "200", "1"}));
  CHECK(items_of(r) == std::vector<std::string>{"1", "5"});
  auto d = redis_layout::parse_delete_session(r);
  REQUIRE(d);
  CHECK(d->existed);
  CHECK(d->version == 5);
  using fields = std::map<std::string, std::string>;
  CHECK(db.hash(s.m) == fields{{"v", "5"}, {"d", "1"}});
  CHECK_FALSE(db.exists(s.c));
  CHECK_FALSE(db.exists(s.k));
  CHECK(db.hash(s.o) == fields{{"!erase", "5"}});
  CHECK(db.raw.text({"GET", s.fields}) == "1"); // two marks became one
  CHECK(db.raw.text({"ZSCORE", s.index, s.sid}) == "100");
  // Deleting the tombstone again: nothing existed, no new version.
  CHECK(items_of(db.call(redis_script::delete_session, write_keys(s),
                         unleased({s.sid, "1", "300", "1"})))
        == std::vector<std::string>{"0", "5"});
  CHECK(db.raw.text({"GET", s.fields}) == "1");

  // Without a cold store: marks and index entry go.
  auto t = db.session();
  db.plant(t, {"1"});
  db.raw.command({"ZADD", t.index, "100", t.sid});
  CHECK(items_of(db.call(redis_script::delete_session, write_keys(t),
                         unleased({t.sid, "0", "200", "0"})))
        == std::vector<std::string>{"1", "2"});
  CHECK_FALSE(db.exists(t.o));
  CHECK(db.raw.text({"ZSCORE", t.index, t.sid}) == "<nil>");

  // No trace and no require_trace: erase everything the cold store has.
  auto u = db.session();
  CHECK(items_of(db.call(redis_script::delete_session, write_keys(u),
                         unleased({u.sid, "1", "200", "0"})))
        == std::vector<std::string>{"0", "0"});
  CHECK(db.hash(u.o) == fields{{"!erase", "0"}});
  CHECK_FALSE(db.exists(u.m));
  CHECK(db.raw.text({"GET", u.fields}) == "1");
}

TEST_CASE("touch_session and exists_session tell live sessions from "
          "tombstones; a dirty session keeps no TTL",
          "[lua][invariant-6]") {
  lua_redis db{lua_database::session_scripts};
  auto live = db.session();
  auto dead = db.session();
  auto unknown = db.session();
  db.plant(live, {"2", {{"me", "1"}}, {{"pre-key/1", "1"}}});
  db.raw.command({"HSET", dead.m, "v", "3", "d", "1"});
  auto exists = [&](const lua_keys& s) {
    return redis_layout::parse_flag(
      db.call(redis_script::exists_session, {s.m}, {"1"}));
  };
  auto touch = [&](const lua_keys& s, const std::string& expire) {
    return redis_layout::parse_flag(db.call(
      redis_script::touch_session, {s.m, s.c, s.k, s.o}, {expire, "0"}));
  };
  CHECK(*exists(live));
  CHECK_FALSE(*exists(dead));
  CHECK_FALSE(*redis_layout::parse_flag(
    db.call(redis_script::exists_session, {unknown.m}, {"0"})));
  CHECK(*touch(live, in_a_minute()));
  for (const auto& key : {live.m, live.c, live.k})
    CHECK(expires_within_a_minute(db, key));
  CHECK_FALSE(*touch(dead, in_a_minute()));
  CHECK(db.raw.integer({"PTTL", dead.m}) == -1);
  CHECK_FALSE(*touch(unknown, in_a_minute()));
  CHECK_FALSE(db.exists(unknown.m));
  // expire_at 0 removes the TTL.
  CHECK(*touch(live, "0"));
  CHECK(db.raw.integer({"PTTL", live.m}) == -1);
  // Dirty (an outbox exists): answered, but no TTL is set.
  db.plant(live.o, {{"c:me", "2"}});
  CHECK(*touch(live, in_a_minute()));
  for (const auto& key : {live.m, live.c, live.k})
    CHECK(db.raw.integer({"PTTL", key}) == -1);
}

TEST_CASE("warm_session fills Redis only while it has no trace of the "
          "session",
          "[lua][read-through]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  std::vector<std::string> keys{s.m, s.c, s.k, s.o};
  CHECK(*redis_layout::parse_flag(
    db.call(redis_script::warm_session, keys,
            {in_a_minute(), "7", "1", "c:me", "1", "k:pre-key/1", "2"})));
  using fields = std::map<std::string, std::string>;
  CHECK(db.hash(s.m) == fields{{"v", "7"}});
  CHECK(db.hash(s.c) == fields{{"me", "1"}});
  CHECK(db.hash(s.k) == fields{{"pre-key/1", "2"}});
  CHECK_FALSE(db.exists(s.o)); // in the cold store already: not dirty
  for (const auto& key : {s.m, s.c, s.k})
    CHECK(expires_within_a_minute(db, key));
  // Another request warmed or wrote it meanwhile: nothing changes.
  CHECK_FALSE(*redis_layout::parse_flag(db.call(
    redis_script::warm_session, keys, {"0", "9", "1", "c:me", "other"})));
  CHECK(db.hash(s.m) == fields{{"v", "7"}});
  CHECK(db.hash(s.c) == fields{{"me", "1"}});

  // Not in the cold store: a tombstone at the cold store's version.
  auto t = db.session();
  CHECK(*redis_layout::parse_flag(db.call(
    redis_script::warm_session, {t.m, t.c, t.k, t.o}, {"0", "4", "0"})));
  CHECK(db.hash(t.m) == fields{{"v", "4"}, {"d", "1"}});

  // Marks without a meta hash, or a bad field: an error, nothing written.
  auto u = db.session();
  db.plant(u.o, {{"c:me", "1"}});
  auto broken = db.try_call(redis_script::warm_session, {u.m, u.c, u.k, u.o},
                            {"0", "1", "1", "c:me", "1"});
  REQUIRE_FALSE(broken);
  CHECK(broken.error().detail.find("outbox without session meta")
        != std::string::npos);
  auto w = db.session();
  auto bad = db.try_call(redis_script::warm_session, {w.m, w.c, w.k, w.o},
                         {"0", "1", "1", "c:me", "1", "x:y", "2"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail.find("bad field at 6") != std::string::npos);
  for (const auto& key : {u.m, u.c, w.m, w.c})
    CHECK_FALSE(db.exists(key));
}

TEST_CASE("warm_session chunks snapshots beyond Lua's unpack limit", "[lua]") {
  lua_redis db{lua_database::session_scripts};
  auto s = db.session();
  // n fields: 2n HSET arguments.
  const int n = beyond_unpack_limit / 2 + 100;
  require_unpack_refuses(db, 2 * n);
  std::vector<std::string> argv{"0", "3", "1"};
  for (int i = 0; i < n; ++i)
    argv.insert(argv.end(), {"k:pre-key/" + std::to_string(i), "v"});
  argv.insert(argv.end(), {"c:me", "1"});
  CHECK(*redis_layout::parse_flag(
    db.call(redis_script::warm_session, {s.m, s.c, s.k, s.o}, argv)));
  CHECK(db.raw.integer({"HLEN", s.k}) == n);
  CHECK(db.raw.integer({"HLEN", s.c}) == 1);
}

} // namespace lua_scripts_redistest
