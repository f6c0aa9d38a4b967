// Tests of crypto/key_ring.hpp: every kind of malformed line is a start-up
// error naming the line and never the key; valid rings keep their order.
//
// The libFuzzer target for the parser is fuzz/crypto_fuzz.cpp (even first
// byte): any bytes either build a ring whose every key has a valid, unique
// id, or fail with invalid_config without echoing key material.
#include "crypto/key_ring.hpp"

#include <cstdio>
#include <fstream>
#include <set>

#include <catch2/catch.hpp>

#include "messages/codec.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace key_ring_test {

using namespace authstore;
using namespace authstore::crypto;

namespace {

/// base64 of 32 bytes, all `b`.
std::string key_text(char b) {
  return base64_encode(std::string(key_bytes, b));
}

/// The parse error of `text` (fails the test if it parses).
failure error_of(const std::string& text) {
  auto ring = key_ring::parse(text, "keys.txt");
  REQUIRE_FALSE(ring);
  return ring.error();
}

} // namespace

TEST_CASE("a key ring keeps its keys in file order, the first active",
          "[crypto][key-ring]") {
  auto ring = key_ring::parse("# rotated 2026-12-07\n"
                              "k2 "
                                + key_text('b')
                                + "\n\n"
                                  "k1\t"
                                + key_text('a') + "\r\n",
                              "keys.txt");
  REQUIRE(ring);
  REQUIRE(ring->keys().size() == 2);
  CHECK(ring->active().id == "k2");
  CHECK(ring->active().bytes[0] == 'b');
  REQUIRE(ring->find("k1"));
  CHECK(ring->find("k1")->bytes[31] == 'a');
  CHECK(ring->find("k3") == nullptr);
}

TEST_CASE("every malformed key line is an error naming its line, never the "
          "key",
          "[crypto][key-ring]") {
  auto good = "k0 " + key_text('z') + "\n";
  struct row {
    const char* what;
    std::string line;
    const char* says;
  };
  const row rows[] = {
    {"one word", "onlyoneword", "expected '<key-id> <base64"},
    {"three words", "k1 " + key_text('a') + " extra", "more than two words"},
    {"bad id char", "k.1 " + key_text('a'), "key id must be"},
    {"id too long", std::string(33, 'a') + " " + key_text('a'),
     "key id must be"},
    {"not base64", "k1 !!!!" + key_text('a').substr(4), "not valid base64"},
    {"short key", "k1 " + base64_encode(std::string(31, 'x')), "32 bytes"},
    {"long key", "k1 " + base64_encode(std::string(33, 'x')), "32 bytes"},
    {"empty key", "k1 ", "expected '<key-id>"},
    {"duplicate id", "k0 " + key_text('y'), "duplicate key id 'k0'"},
  };
  for (const auto& r : rows) {
    INFO(r.what);
    auto f = error_of(good + r.line + "\n");
    CHECK(f.code == errc::invalid_config);
    CHECK_THAT(f.detail, Catch::Contains("keys.txt line 2"));
    CHECK_THAT(f.detail, Catch::Contains(r.says));
    // Neither this line's key material nor the good line's appears.
    auto words = r.line.find(' ');
    if (words != std::string::npos && r.line.size() > words + 8)
      CHECK_THAT(f.detail, !Catch::Contains(r.line.substr(words + 1, 8)));
    CHECK_THAT(f.detail, !Catch::Contains(key_text('z').substr(0, 8)));
  }
}

TEST_CASE("a key file without a key line is an error", "[crypto][key-ring]") {
  for (std::string text : {"", "\n", "# only a comment\n", "  \n\t\n"}) {
    INFO('"' << text << '"');
    auto f = error_of(text);
    CHECK(f.code == errc::invalid_config);
    CHECK_THAT(f.detail, Catch::Contains("no key line"));
  }
}

TEST_CASE("a missing key file is an error naming the path",
          "[crypto][key-ring]") {
  auto ring = key_ring::load("/nonexistent/authstore-keys");
  REQUIRE_FALSE(ring);
  CHECK(ring.error().code == errc::invalid_config);
  CHECK_THAT(ring.error().detail,
             Catch::Contains("/nonexistent/authstore-keys"));
}

TEST_CASE("key ids are 1..32 of [A-Za-z0-9_-], exhaustively over bytes",
          "[crypto][key-ring]") {
  for (int b = 0; b < 256; ++b) {
    auto c = static_cast<char>(b);
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '_' || c == '-';
    INFO("byte " << b);
    CHECK(is_key_id(std::string(1, c)) == ok);
  }
  CHECK_FALSE(is_key_id(""));
  CHECK(is_key_id(std::string(32, 'k')));
  CHECK_FALSE(is_key_id(std::string(33, 'k')));
}

TEST_CASE("keygen lines parse back as a ring, and each key is new",
          "[crypto][key-ring]") {
  std::set<std::string> seen;
  std::string file;
  for (int i = 0; i < 8; ++i) {
    auto line = new_key_line("k" + std::to_string(i));
    REQUIRE(line);
    CHECK(seen.insert(line->substr(line->find(' ') + 1)).second);
    file += *line + "\n";
  }
  auto ring = key_ring::parse(file, "generated");
  REQUIRE(ring);
  CHECK(ring->keys().size() == 8);
  CHECK_FALSE(new_key_line("bad id"));
}

} // namespace key_ring_test
