// Tests of redis/scripts.hpp: the registry (messages/redis_scripts.def) and
// the sources the build embedded from redis/scripts/*.lua. No server: that
// the Lua compiles and behaves is tests/redis/lua_*_redistest.cpp.
#include "redis/scripts.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <utility>
#include <vector>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace redis_scripts_test {

using namespace authstore;
using redis_layout::all_scripts;
using redis_layout::script_name;
using redis_layout::script_source;

namespace {

/// The registry as it must stay: values cross the wire inside
/// redis_request, so they are pinned and only appended; the first line is
/// the shebang whose flags Redis 7 reads (no-writes: runs read-only, on a
/// replica and under OOM; allow-oom: runs under OOM; none: a write, refused
/// up front under OOM).
struct expected_script {
  redis_script which;
  int value;
  std::string name;
  std::string first_line;
};

const std::vector<expected_script>& expected() {
  static const std::vector<expected_script> rows = {
    {redis_script::apply_patch, 1, "apply_patch", "#!lua"},
    {redis_script::read_creds, 2, "read_creds", "#!lua flags=no-writes"},
    {redis_script::read_keys, 3, "read_keys", "#!lua flags=no-writes"},
    {redis_script::delete_session, 4, "delete_session",
     "#!lua flags=allow-oom"},
    {redis_script::touch_session, 5, "touch_session", "#!lua flags=allow-oom"},
    {redis_script::read_dirty, 6, "read_dirty", "#!lua flags=no-writes"},
    {redis_script::claim_dirty, 7, "claim_dirty", "#!lua"},
    {redis_script::clear_dirty, 8, "clear_dirty", "#!lua"},
    {redis_script::hold_claim, 9, "hold_claim", "#!lua"},
    {redis_script::outbox_stats, 10, "outbox_stats", "#!lua flags=no-writes"},
    {redis_script::sweep_dirty, 11, "sweep_dirty", "#!lua"},
    {redis_script::warm_session, 12, "warm_session", "#!lua"},
    {redis_script::exists_session, 13, "exists_session",
     "#!lua flags=no-writes"},
    {redis_script::read_session, 14, "read_session", "#!lua flags=no-writes"},
    {redis_script::scan_sessions, 15, "scan_sessions", "#!lua flags=no-writes"},
    {redis_script::list_key_ids, 16, "list_key_ids", "#!lua flags=no-writes"},
    {redis_script::lease, 17, "lease", "#!lua"},
    {redis_script::own, 18, "own", "#!lua"},
    {redis_script::member, 19, "member", "#!lua"},
  };
  return rows;
}

std::string first_line(std::string_view text) {
  return std::string{text.substr(0, text.find('\n'))};
}

} // namespace

TEST_CASE("the registry pins each script's wire value, name and flags",
          "[redis-scripts]") {
  CHECK(static_cast<int>(redis_script::none) == 0);
  CHECK(all_scripts().size() == expected().size());
  for (const auto& row : expected()) {
    INFO(row.name);
    CHECK(static_cast<int>(row.which) == row.value);
    CHECK(script_name(row.which) == row.name);
    CHECK(first_line(script_source(row.which)) == row.first_line);
  }
}

TEST_CASE("all_scripts lists every registered value once, each with a source",
          "[redis-scripts]") {
  std::map<int, int> listed;
  for (auto s : all_scripts())
    ++listed[static_cast<int>(s)];
  // Exhaustive over the enum's whole domain (uint8_t): a value is either
  // listed once with a name and a "#!lua" source, or has neither.
  for (int v = 0; v < 256; ++v) {
    auto s = static_cast<redis_script>(v);
    INFO("value " << v);
    if (listed.count(v) == 0) {
      CHECK(script_name(s).empty());
      CHECK(script_source(s).empty());
      continue;
    }
    CHECK(listed[v] == 1);
    CHECK_FALSE(script_name(s).empty());
    auto src = script_source(s);
    REQUIRE_FALSE(src.empty());
    CHECK(src.rfind("#!lua", 0) == 0);
    CHECK(src.back() == '\n');
  }
  CHECK(script_source(redis_script::none).empty());
}

TEST_CASE("the build expanded every include into the scripts that use it",
          "[redis-scripts]") {
  for (auto s : all_scripts()) {
    INFO(script_name(s));
    CHECK(script_source(s).find("--@include") == std::string_view::npos);
  }
  // Who includes what (redis/scripts/*.lua): the definitions arrived.
  const std::vector<std::pair<redis_script, std::string>> uses = {
    {redis_script::apply_patch, "local function traced_meta("},
    {redis_script::apply_patch, "local function chunked_call("},
    {redis_script::read_creds, "local function traced_meta("},
    {redis_script::read_keys, "local function traced_meta("},
    {redis_script::delete_session, "local function traced_meta("},
    {redis_script::touch_session, "local function traced_meta("},
    {redis_script::exists_session, "local function traced_meta("},
    {redis_script::read_session, "local function traced_meta("},
    {redis_script::read_dirty, "local function read_outbox("},
    {redis_script::claim_dirty, "local function read_outbox("},
    {redis_script::clear_dirty, "local function chunked_call("},
    {redis_script::warm_session, "local function chunked_call("},
  };
  for (const auto& [s, definition] : uses) {
    INFO(script_name(s) << " needs " << definition);
    CHECK(script_source(s).find(definition) != std::string_view::npos);
  }
}

} // namespace redis_scripts_test
