// normalize_fixture_test.cpp -- real Baileys output as the codec's spec.
//
// tests/fixtures/make-fixtures.mjs ran the real `baileys` package (version
// in tests/fixtures/package.json) and wrote every stored value twice: as
// Baileys v7's own store writes it (baileys-v7/) and as plain
// JSON.stringify writes it (baileys-numarray/: {"type":"Buffer","data":[..]}
// and {"0":..} objects). It also wrote JSON.stringify output for thousands
// of doubles and for strings with every character up to U+00FF (js/).
// Properties: number-array form -> exactly the v7 bytes; v7 -> itself;
// JSON.stringify's numbers and strings -> themselves. Tests run from the
// source tree (CTest's working directory), so paths are relative.
#include "messages/codec.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace normalize_fixture_test {

using namespace authstore;
namespace fs = std::filesystem;

namespace {

const fs::path fixtures = "tests/fixtures";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

/// Fixture names in baileys-v7/, sorted.
std::vector<std::string> fixture_names() {
  std::vector<std::string> names;
  for (auto& entry : fs::directory_iterator(fixtures / "baileys-v7"))
    if (entry.path().extension() == ".json")
      names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string normalized(const std::string& text) {
  auto out = normalize_text(text, codec_limits{});
  if (!out)
    FAIL(out.error().render());
  return *out;
}

} // namespace

TEST_CASE("the fixture set covers every stored kind of Baileys value",
          "[codec][fixtures]") {
  REQUIRE(fs::is_directory(fixtures / "baileys-v7"));
  auto names = fixture_names();
  CHECK(names.size() >= 20);
  for (const char* kind :
       {"creds", "pre-key-", "session-", "sender-key-", "sender-key-memory-",
        "app-state-sync-key-", "app-state-sync-version-", "lid-mapping-",
        "device-list-", "tctoken-", "identity-key-"}) {
    INFO(kind);
    CHECK(std::any_of(names.begin(), names.end(), [&](const std::string& n) {
      return n.find(std::string{"."} + kind) != std::string::npos;
    }));
  }
}

TEST_CASE("a Baileys v7 value normalizes to itself byte for byte",
          "[codec][fixtures]") {
  for (auto& name : fixture_names()) {
    INFO(name);
    auto v7 = slurp(fixtures / "baileys-v7" / name);
    auto out = normalized(v7);
    CHECK(out == v7);
    auto parsed = parse_limited(out, codec_limits{});
    REQUIRE(parsed);
    CHECK(has_only_v7_buffers(*parsed));
  }
}

TEST_CASE("the number-array form of a Baileys value normalizes to the v7 "
          "bytes",
          "[codec][fixtures]") {
  size_t differing = 0, byte_objects = 0;
  for (auto& name : fixture_names()) {
    INFO(name);
    auto v7 = slurp(fixtures / "baileys-v7" / name);
    auto numarray = slurp(fixtures / "baileys-numarray" / name);
    // Guard against a vacuous pass: most fixtures do hold Buffers.
    if (numarray != v7)
      ++differing;
    if (numarray.find("{\"0\":") != std::string::npos)
      ++byte_objects;
    auto parsed = parse_limited(numarray, codec_limits{});
    REQUIRE(parsed);
    auto out = normalized(numarray);
    CHECK(out == v7);
    CHECK(normalized(out) == out);
    auto after = parse_limited(out, codec_limits{});
    REQUIRE(after);
    CHECK(has_only_v7_buffers(*after));
  }
  CHECK(differing >= 15);
  CHECK(byte_objects >= 1); // bob's identity key is a Uint8Array
}

TEST_CASE("JSON.stringify's numbers come back byte for byte",
          "[codec][fixtures]") {
  auto text = slurp(fixtures / "js" / "numbers.json");
  auto parsed = parse_limited(text, codec_limits{});
  REQUIRE(parsed);
  CHECK(parsed->size() > 2000);
  CHECK(normalized(text) == text);
  // Element by element, so a mismatch names the number.
  for (auto& x : *parsed) {
    auto one = x.dump();
    auto js_text = normalized(one);
    CHECK(normalized(js_text) == js_text);
  }
}

TEST_CASE("JSON.stringify's strings come back byte for byte",
          "[codec][fixtures]") {
  auto text = slurp(fixtures / "js" / "strings.json");
  CHECK(normalized(text) == text);
}

} // namespace normalize_fixture_test
