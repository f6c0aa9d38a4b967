// Dump lines (runtime/cli/dump_format.hpp): a session to one line and back,
// byte for byte, with its version; what is not a dump line.
#include "runtime/cli/dump_format.hpp"

#include <catch2/catch.hpp>
#include <map>

#include "runtime/cli/baileys_folder.hpp"
#include "tests/folder_fixtures.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace dump_format_test {

using namespace authstore;
using namespace authstore::test;

namespace {

std::map<std::string, std::string> as_map(const std::vector<field_write>& ws) {
  std::map<std::string, std::string> m;
  for (const auto& w : ws) {
    CHECK_FALSE(w.erase);
    m[w.field] = w.value;
  }
  return m;
}

} // namespace

TEST_CASE("a dumped session reads back as the same values, byte for byte, "
          "at its version",
          "[dump-format][issue-16]") {
  for (auto owner : {"alice", "bob"}) {
    INFO(owner);
    temp_dir tmp;
    copy_fixture_folder("baileys-v7", owner, tmp.path + "/s");
    auto read = read_baileys_folder(tmp.path + "/s", patch_limits{});
    REQUIRE(read);
    session_snapshot snap{true, 4711, read->writes.writes};
    auto line = dump_line("5511999@s.whatsapp.net", snap);
    CHECK(line.find('\n') == std::string::npos);
    auto back = parse_dump_line(line, patch_limits{});
    INFO(read_error(back));
    REQUIRE(back);
    CHECK(back->sid == "5511999@s.whatsapp.net");
    CHECK(back->version == 4711);
    CHECK(back->writes.min_version == 4711);
    CHECK(as_map(back->writes.writes) == as_map(snap.fields));
    // Equal states give equal lines, whatever order the store returned.
    auto reversed = snap;
    std::reverse(reversed.fields.begin(), reversed.fields.end());
    CHECK(dump_line("5511999@s.whatsapp.net", reversed) == line);
  }
}

TEST_CASE("a dump line has creds in Baileys' order and keys grouped by type",
          "[dump-format][issue-16]") {
  session_snapshot snap{true,
                        2,
                        {{"k:session/b", false, "2"},
                         {"c:me", false, R"({"id":"x"})"},
                         {"k:pre-key/1", false, "1"},
                         {"c:noiseKey", false, "0"},
                         {"k:session/a", false, "3"}}};
  CHECK(
    dump_line("s1", snap)
    == R"({"session":"s1","version":2,"creds":{"noiseKey":0,"me":{"id":"x"}},)"
       R"("keys":{"pre-key":{"1":1},"session":{"a":3,"b":2}}})");
  session_snapshot empty{true, 1, {}};
  CHECK(dump_line("s2", empty)
        == R"({"session":"s2","version":1,"creds":{},"keys":{}})");
  auto back = parse_dump_line(dump_line("s2", empty), patch_limits{});
  REQUIRE(back);
  CHECK(back->writes.writes.empty());
}

TEST_CASE("lines that are no dump lines are refused with the reason",
          "[dump-format][issue-16]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"", "invalid_argument"},
    {"[1]", "a dump line is a JSON object"},
    {R"({"session":"s","version":1,"creds":{},"keys":{},"x":1})",
     "unknown member"},
    {R"({"version":1,"creds":{}})", "names its session"},
    {R"({"session":"a b","version":1})", "invalid_session_id"},
    {R"({"session":"s","version":-1})", "whole number"},
    {R"({"session":"s","version":"7"})", "whole number"},
    {R"({"session":7,"version":1})", "not a string"},
    {R"({"session":"s","version":1,"keys":{"pre-key":{"1":{"type":"Buffer","data":"!"}}}})",
     "invalid_buffer"},
    {R"({"session":"s","version":1,"creds":{"me":{"id":)", "invalid_argument"},
  };
  for (const auto& [line, why] : cases) {
    INFO(line);
    auto r = parse_dump_line(line, patch_limits{});
    REQUIRE_FALSE(r);
    CHECK(r.error().render().find(why) != std::string::npos);
  }
}

} // namespace dump_format_test
