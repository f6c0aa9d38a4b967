// Tests of messages/utf8.hpp: exhaustive over every code point and every
// string of up to two bytes, against nlohmann's serializer (the component
// the check stands in front of) and a reference encoder.
#include "messages/utf8.hpp"

#include <cstdint>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace utf8_test {

using namespace authstore;

namespace {

/// What nlohmann's dump() accepts.
bool json_can_hold(const std::string& x) {
  try {
    nlohmann::json(x).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

/// RFC 3629 encoding of `cp`, surrogates included (to see them refused).
std::string encode(uint32_t cp) {
  std::string out;
  auto put = [&](uint32_t x) {
    out.push_back(static_cast<char>(x));
  };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6));
    put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18));
    put(0x80 | ((cp >> 12) & 0x3F));
    put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
  return out;
}

} // namespace

TEST_CASE("every code point but the surrogates is UTF-8, in its shortest "
          "form only",
          "[utf8]") {
  size_t refused = 0;
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    if (is_utf8(encode(cp)) == surrogate) {
      ++refused;
      FAIL_CHECK("code point " << cp);
    }
  }
  CHECK(refused == 0);
  // Overlong forms of '/' and of U+07FF, U+FFFF; beyond U+10FFFF.
  for (const char* x :
       {"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xe0\x9f\xbf",
        "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80"})
    CHECK_FALSE(is_utf8(x));
}

TEST_CASE("every string of up to two bytes is judged as nlohmann judges it",
          "[utf8]") {
  CHECK(is_utf8(""));
  size_t differ = 0;
  for (int a = 0; a < 256; ++a) {
    std::string one(1, static_cast<char>(a));
    differ += is_utf8(one) != json_can_hold(one);
    for (int b = 0; b < 256; ++b) {
      std::string two = one + static_cast<char>(b);
      differ += is_utf8(two) != json_can_hold(two);
    }
  }
  CHECK(differ == 0);
}

TEST_CASE("a sequence cut short or continued wrongly is not UTF-8", "[utf8]") {
  for (auto cp : {0x80u, 0x800u, 0x10000u, 0x10FFFFu}) {
    auto x = encode(cp);
    for (size_t n = 1; n < x.size(); ++n) {
      CHECK_FALSE(is_utf8(x.substr(0, n)));
      CHECK_FALSE(is_utf8(x.substr(0, n) + "a"));
    }
    CHECK(is_utf8(x + x));
  }
}

} // namespace utf8_test
