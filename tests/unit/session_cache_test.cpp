// Tests of actors/session_cache.hpp: the session actor's cache rules, with
// time passed in (no actors, no servers).
#include "actors/session_cache.hpp"

#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace session_cache_test {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

using clock_type = session_cache::clock;

const clock_type::time_point t0 = clock_type::time_point{} + 1h;

keys_reply keys_at(uint64_t version,
                   std::map<std::string, std::string> values) {
  keys_reply r;
  r.version = version;
  r.values = std::move(values);
  return r;
}

creds_reply creds_at(uint64_t version, std::string json) {
  return creds_reply{true, version, std::move(json)};
}

const std::vector<std::string> one_two = {"1", "2"};

} // namespace

TEST_CASE("cached keys answer only when every id is known, absent ones "
          "left out",
          "[session-cache]") {
  session_cache uut;
  uut.store_keys("pre-key", one_two, keys_at(5, {{"1", "A"}}), t0, 1s, 64);
  auto hit = uut.find_keys("pre-key", one_two);
  REQUIRE(hit);
  CHECK(hit->version == 5);
  CHECK(hit->values == std::map<std::string, std::string>{{"1", "A"}});
  CHECK_FALSE(uut.find_keys("pre-key", {"1", "3"}));
  CHECK_FALSE(uut.find_keys("session", {"1"}));
}

TEST_CASE("entries are fresh for less than the max age", "[session-cache]") {
  session_cache uut;
  uut.store_creds(creds_at(5, "{}"), t0);
  CHECK(uut.fresh(t0 + 999ms, 1s));
  CHECK_FALSE(uut.fresh(t0 + 1s, 1s));
}

TEST_CASE("our own write at the next version keeps the keys, with the new "
          "values",
          "[session-cache][invariant-2]") {
  session_cache uut;
  uut.store_keys("pre-key", one_two, keys_at(5, {{"1", "A"}, {"2", "B"}}), t0,
                 1s, 64);
  uut.store_creds(creds_at(5, R"({"a":1})"), t0);
  patch p;
  p.set_key("pre-key", "1", "NEW");
  p.erase_key("pre-key", "2");
  uut.apply_write(p, 6);
  CHECK(uut.version() == 6);
  auto hit = uut.find_keys("pre-key", one_two);
  REQUIRE(hit);
  CHECK(hit->version == 6);
  CHECK(hit->values == std::map<std::string, std::string>{{"1", "NEW"}});
  // Untouched creds stay, reported at the new version.
  REQUIRE(uut.creds());
  CHECK(uut.creds()->version == 6);
  CHECK(uut.creds()->creds_json == R"({"a":1})");
}

TEST_CASE("a write touching creds drops the cached creds document",
          "[session-cache]") {
  session_cache uut;
  uut.store_creds(creds_at(5, R"({"a":1})"), t0);
  patch p;
  p.set_creds("a", "2");
  uut.apply_write(p, 6);
  CHECK(uut.creds() == nullptr);
  CHECK(uut.version() == 6);
}

TEST_CASE("a write at any other version drops everything",
          "[session-cache][invariant-2]") {
  session_cache uut;
  uut.store_keys("pre-key", one_two, keys_at(5, {{"1", "A"}}), t0, 1s, 64);
  uut.store_creds(creds_at(5, "{}"), t0);
  patch p;
  p.set_key("pre-key", "9", "X");
  uut.apply_write(p, 9); // versions 6..8 were someone else's
  CHECK(uut.version() == 9);
  CHECK_FALSE(uut.find_keys("pre-key", {"1"}));
  CHECK(uut.creds() == nullptr);
}

TEST_CASE("a read at another version, or of stale entries, starts over",
          "[session-cache]") {
  session_cache uut;
  uut.store_keys("pre-key", {"1"}, keys_at(5, {{"1", "A"}}), t0, 1s, 64);
  SECTION("another version") {
    uut.store_keys("pre-key", {"2"}, keys_at(7, {}), t0, 1s, 64);
    CHECK(uut.version() == 7);
  }
  SECTION("same version, stale") {
    uut.store_keys("pre-key", {"2"}, keys_at(5, {}), t0 + 2s, 1s, 64);
    CHECK(uut.fresh(t0 + 2s, 1s));
  }
  CHECK_FALSE(uut.find_keys("pre-key", {"1"}));
  CHECK(uut.find_keys("pre-key", {"2"}));
}

TEST_CASE("a fresh read at the same version adds to what is cached",
          "[session-cache]") {
  session_cache uut;
  uut.store_keys("pre-key", {"1"}, keys_at(5, {{"1", "A"}}), t0, 1s, 64);
  uut.store_keys("session", {"x"}, keys_at(5, {{"x", "S"}}), t0 + 10ms, 1s, 64);
  CHECK(uut.find_keys("pre-key", {"1"}));
  CHECK(uut.find_keys("session", {"x"}));
}

TEST_CASE("key entries are bounded: past the cap the cache starts over",
          "[session-cache]") {
  session_cache uut;
  uut.store_keys("pre-key", {"1", "2", "3"}, keys_at(5, {}), t0, 1s, 4);
  uut.store_keys("pre-key", {"4", "5"}, keys_at(5, {}), t0, 1s, 4);
  CHECK_FALSE(uut.find_keys("pre-key", {"1"}));
  CHECK(uut.find_keys("pre-key", {"4", "5"}));
  // A read of more ids than the cap is not cached at all.
  uut.store_keys("pre-key", {"a", "b", "c", "d", "e"}, keys_at(5, {}), t0, 1s,
                 4);
  CHECK_FALSE(uut.find_keys("pre-key", {"a"}));
}

TEST_CASE("drop keeps the version, clear sets it", "[session-cache]") {
  session_cache uut;
  uut.store_creds(creds_at(5, "{}"), t0);
  uut.drop();
  CHECK(uut.version() == 5);
  CHECK(uut.creds() == nullptr);
  uut.store_creds(creds_at(5, "{}"), t0);
  uut.clear(0);
  CHECK(uut.version() == 0);
  CHECK(uut.creds() == nullptr);
}

TEST_CASE("ids containing a slash stay apart from their type",
          "[session-cache]") {
  session_cache uut;
  uut.store_keys("t", {"a/b"}, keys_at(5, {{"a/b", "V"}}), t0, 1s, 64);
  patch p;
  p.set_key("t", "a/b", "W");
  uut.apply_write(p, 6);
  auto hit = uut.find_keys("t", {"a/b"});
  REQUIRE(hit);
  CHECK(hit->values.at("a/b") == "W");
}

TEST_CASE("a replace write drops every entry, even at the next version",
          "[session-cache][issue-16]") {
  // A replace (import/restore --replace) deleted the old keys in the same
  // script: an entry the cache holds is gone from Redis whatever the
  // version says.
  session_cache uut;
  uut.store_keys("pre-key", one_two, keys_at(5, {{"1", "A"}, {"2", "B"}}), t0,
                 1s, 64);
  uut.store_creds(creds_at(5, R"({"me":1})"), t0);
  patch p;
  p.replace = true;
  p.set_key("pre-key", "3", "\"C\"");
  uut.apply_write(p, 6);
  CHECK(uut.version() == 6);
  CHECK_FALSE(uut.find_keys("pre-key", one_two));
  CHECK(uut.creds() == nullptr);
  // The same patch without replace keeps the untouched entries.
  session_cache kept;
  kept.store_keys("pre-key", one_two, keys_at(5, {{"1", "A"}, {"2", "B"}}), t0,
                  1s, 64);
  p.replace = false;
  kept.apply_write(p, 6);
  CHECK(kept.find_keys("pre-key", one_two));
}

} // namespace session_cache_test
