// codec_test.cpp -- properties of the Baileys codec (messages/codec.hpp).
//
// Each property is one test; small domains are covered exhaustively (every
// byte string up to 2 bytes through base64, every 4-character string over a
// base64-ish alphabet, every length 0..64 through all three Buffer forms)
// and every accepted case is followed by a round trip. Random inputs use
// fixed seeds, so a failure reproduces. Real Baileys output is tested in
// normalize_fixture_test.cpp.
#include "messages/codec.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace codec_test {

using namespace authstore;

namespace {

const codec_limits defaults;

/// normalize_text that must succeed.
std::string norm(const std::string& text) {
  auto out = normalize_text(text, defaults);
  INFO(text);
  REQUIRE(out);
  return *out;
}

/// The errc normalize_text fails with (the test fails if it succeeds).
errc norm_error(const std::string& text,
                const codec_limits& limits = defaults) {
  auto out = normalize_text(text, limits);
  INFO(text);
  REQUIRE_FALSE(out);
  return out.error().code;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s.push_back(static_cast<char>(byte(rng)));
  return s;
}

/// The three Buffer encodings of `bytes`, as Baileys' stores wrote them.
std::string form_v7(const std::string& bytes) {
  return R"({"type":"Buffer","data":")" + base64_encode(bytes) + "\"}";
}
std::string form_number_array(const std::string& bytes) {
  std::string s = R"({"type":"Buffer","data":[)";
  for (size_t i = 0; i < bytes.size(); ++i)
    s += (i ? "," : "") + std::to_string(static_cast<unsigned char>(bytes[i]));
  return s + "]}";
}
std::string form_byte_object(const std::string& bytes) {
  std::string s = "{";
  for (size_t i = 0; i < bytes.size(); ++i)
    s += (i ? ",\"" : "\"") + std::to_string(i)
         + "\":" + std::to_string(static_cast<unsigned char>(bytes[i]));
  return s + "}";
}

/// The bytes of the v7 Buffer text `text`.
std::string bytes_of(const std::string& text) {
  auto value = parse_limited(text, defaults);
  REQUIRE(value);
  REQUIRE(has_only_v7_buffers(*value));
  auto bytes = base64_decode((*value)["data"].get<std::string>());
  REQUIRE(bytes);
  return *bytes;
}

std::string nested(size_t depth, const std::string& open,
                   const std::string& close, const std::string& leaf = "") {
  std::string s;
  for (size_t i = 0; i < depth; ++i)
    s += open;
  s += leaf;
  for (size_t i = 0; i < depth; ++i)
    s += close;
  return s;
}

} // namespace

// -- base64 ------------------------------------------------------------------

TEST_CASE("base64 matches the RFC 4648 test vectors both ways", "[codec]") {
  const std::pair<std::string, std::string> vectors[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
  };
  for (auto& [plain, coded] : vectors) {
    CHECK(base64_encode(plain) == coded);
    auto back = base64_decode(coded);
    REQUIRE(back);
    CHECK(*back == plain);
  }
}

TEST_CASE("every byte string up to two bytes round-trips through base64",
          "[codec]") {
  std::vector<std::string> inputs{""};
  for (int a = 0; a < 256; ++a) {
    inputs.push_back(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b)
      inputs.push_back({static_cast<char>(a), static_cast<char>(b)});
  }
  for (auto& in : inputs) {
    auto back = base64_decode(base64_encode(in));
    REQUIRE(back);
    REQUIRE(*back == in);
  }
}

TEST_CASE("base64 accepts exactly the canonical text", "[codec]") {
  // Every 4-character string over a mix of alphabet, padding and foreign
  // characters: accepted ones re-encode to themselves, so no two texts
  // decode to the same bytes.
  const std::string chars = "AQB+/=-_ \x80";
  size_t accepted = 0;
  std::string t(4, ' ');
  for (char a : chars)
    for (char b : chars)
      for (char c : chars)
        for (char d : chars) {
          t = {a, b, c, d};
          auto bytes = base64_decode(t);
          if (!bytes) {
            CHECK(bytes.error().code == errc::invalid_buffer);
            continue;
          }
          ++accepted;
          REQUIRE(base64_encode(*bytes) == t);
        }
  // Of the five alphabet characters only A (0) and Q (16) have zero low
  // bits: 5^4 unpadded, 5*2 ending "x==" and 5*5*2 ending "xy=".
  CHECK(accepted == 625 + 5 * 2 + 5 * 5 * 2);
}

TEST_CASE("base64 rejects bad characters, lengths and padding", "[codec]") {
  for (const char* bad :
       {"Zg=", "Zg", "Z", "Zm9vY", "Zg==Zg==", "Z===", "====", "Zm9v====",
        "Zh==", "Zm9=", "Zm-v", "Zm_v", "Zm9v\n", "Zm 9v", "Zg=A", "=Zg="}) {
    auto r = base64_decode(bad);
    INFO(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_buffer);
  }
  CHECK_FALSE(base64_decode(std::string("Zm9\0", 4)));
}

TEST_CASE("base64_decode_into reuses one buffer across sizes and failures",
          "[codec]") {
  std::string buf = "left over from before";
  const std::string long_bytes(3001, '\x7f');
  for (const std::string& bytes :
       {long_bytes, std::string{"f"}, std::string{}, std::string{"fo"},
        std::string(300, '\0'), std::string{"foobar"}}) {
    auto n = base64_decode_into(buf, base64_encode(bytes));
    REQUIRE(n);
    CHECK(*n == bytes.size());
    CHECK(buf == bytes);
    // A failure in between changes nothing for the next decode.
    auto bad = base64_decode_into(buf, "Zm9vY");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == errc::invalid_buffer);
  }
  auto again = base64_decode_into(buf, "Zm9vYmFy");
  REQUIRE(again);
  CHECK(buf == "foobar");
  CHECK(*base64_decode("Zm9vYmFy") == "foobar"); // the wrapper, unchanged
}

// -- parse limits ------------------------------------------------------------

TEST_CASE("the byte limit admits N bytes and rejects N+1", "[codec]") {
  codec_limits limits;
  limits.max_value_bytes = 64;
  std::string at_limit = "\"" + std::string(62, 'a') + "\"";
  REQUIRE(at_limit.size() == 64);
  auto ok = normalize_text(at_limit, limits);
  REQUIRE(ok);
  CHECK(*ok == at_limit);
  CHECK(norm_error(at_limit + " ", limits) == errc::value_too_large);
  // Checked before parsing: oversized garbage is too large, not invalid.
  CHECK(norm_error(std::string(65, '{'), limits) == errc::value_too_large);
}

TEST_CASE("the depth limit admits N levels and rejects N+1", "[codec]") {
  // Arrays, objects, and the two alternating, each `depth` levels deep.
  auto build = [](int shape, size_t depth) {
    std::string open, close;
    for (size_t i = 0; i < depth; ++i) {
      bool array = shape == 0 || (shape == 2 && i % 2 == 0);
      open += array ? "[" : "{\"k\":";
      close.insert(0, array ? "]" : "}");
    }
    return open + "0" + close;
  };
  for (size_t n : {0, 1, 2, 7, 32}) {
    codec_limits limits;
    limits.max_depth = n;
    for (int shape : {0, 1, 2}) {
      auto fits = build(shape, n);
      auto deeper = build(shape, n + 1);
      INFO(fits);
      auto out = normalize_text(fits, limits);
      REQUIRE(out);
      CHECK(*out == fits);
      CHECK(norm_error(deeper, limits) == errc::too_deep);
    }
  }
  codec_limits zero;
  zero.max_depth = 0;
  CHECK(norm_error("{}", zero) == errc::too_deep);
  CHECK(norm_error("[]", zero) == errc::too_deep);
}

TEST_CASE("the field limit admits N fields and rejects N+1", "[codec]") {
  for (size_t n : {0, 1, 2, 10, 1000}) {
    codec_limits limits;
    limits.max_fields = n;
    std::string array = "[", object = "{";
    for (size_t i = 0; i < n; ++i) {
      array += (i ? ",0" : "0");
      object += (i ? ",\"" : "\"") + std::to_string(i + 1000) + "\":true";
    }
    INFO(n);
    CHECK(parse_limited(array + "]", limits));
    CHECK(parse_limited(object + "}", limits));
    CHECK(norm_error(array + (n ? ",0]" : "0]"), limits)
          == errc::too_many_fields);
    CHECK(norm_error(object + (n ? "," : "") + "\"x\":1}", limits)
          == errc::too_many_fields);
  }
  // Members and elements at every depth count: 1 + 3 + 1 = 5 fields.
  codec_limits five;
  five.max_fields = 5;
  CHECK(parse_limited(R"({"a":[1,[],{"b":null}]})", five));
  CHECK(norm_error(R"({"a":[1,[],{"b":null,"c":2}]})", five)
        == errc::too_many_fields);
}

TEST_CASE("limits stop the parse before the rest of the text is read",
          "[codec]") {
  // The syntax error lies past the limit; reporting the limit proves the
  // parser stopped at it instead of building the document first.
  codec_limits shallow;
  shallow.max_depth = 4;
  CHECK(norm_error("[[[[[ this is not json", shallow) == errc::too_deep);
  codec_limits narrow;
  narrow.max_fields = 3;
  CHECK(norm_error("[1,2,3,4 this is not json", narrow)
        == errc::too_many_fields);
}

TEST_CASE("text that is not JSON is invalid_argument", "[codec]") {
  for (const char* bad :
       {"",         " ",         "{",         "nul",
        "[1,]",     "{'a':1}",   "1 2",       "NaN",
        "Infinity", "1e400",     "-1e400",    "/* c */ 1",
        "01",       "\"\\x41\"", "{\"a\" 1}", "\"unterminated",
        "[\"\t\"]", "+1",        ".5",        "1."}) {
    CHECK(norm_error(bad) == errc::invalid_argument);
  }
}

TEST_CASE("a syntax error's detail never quotes the input", "[codec]") {
  auto r = normalize_text("{\"k\":\"SECRETKEYMATERIAL", defaults);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_argument);
  CHECK(r.error().detail.find("SECRET") == std::string::npos);
  CHECK(r.error().detail.find("byte") != std::string::npos);
}

TEST_CASE("invalid UTF-8 in a string is invalid_argument, never a throw",
          "[codec]") {
  for (std::string bad : {
         "\"\xff\"", "\"\xc0\xaf\"",             // 0xff; overlong '/'
         "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"", // overlong; surrogate
         "\"\xc3\"", "\"\xe2\x82\"", "\"\x80\"", // truncated; stray
         "\"\xf4\x90\x80\x80\"",                 // above U+10FFFF
         "\"\\ud800\"", "\"\\udc00x\"",          // lone surrogate escapes
         "{\"\xff\":1}",                         // in a key
       }) {
    INFO(bad);
    CHECK_NOTHROW(normalize_text(bad, defaults));
    CHECK(norm_error(bad) == errc::invalid_argument);
  }
}

TEST_CASE("valid UTF-8 and escapes come out as JSON.stringify writes them",
          "[codec]") {
  // Raw multibyte text stays raw; escapes of printable characters are
  // decoded; control characters use the short escapes or \u00xx.
  const std::pair<std::string, std::string> cases[] = {
    {"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", "\"caf\xc3\xa9 \xf0\x9f\x98\x80\""},
    {"\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\""},
    {"\"\\/\\u0041\"", "\"/A\""},
    {"\"\\u0000\\u001f\\u007f\"", "\"\\u0000\\u001f\x7f\""},
    {"\"\\b\\f\\n\\r\\t\\\"\\\\\"", "\"\\b\\f\\n\\r\\t\\\"\\\\\""},
    {"\"\xe2\x80\xa8\"", "\"\xe2\x80\xa8\""},
  };
  for (auto& [in, out] : cases) {
    CHECK(norm(in) == out);
    CHECK(norm(out) == out);
  }
}

TEST_CASE("numbers come out as JSON.stringify writes them", "[codec]") {
  // Expected values are node 20's JSON.stringify(JSON.parse(input)); the
  // seeded bulk comparison is in normalize_fixture_test.cpp.
  const std::pair<const char*, const char*> cases[] = {
    {"1.5", "1.5"},
    {"1.0", "1"},
    {"-0", "0"},
    {"-0.0", "0"},
    {"1e21", "1e+21"},
    {"1e20", "100000000000000000000"},
    {"1E3", "1000"},
    {"1e-7", "1e-7"},
    {"0.000001", "0.000001"},
    {"2.5e-5", "0.000025"},
    {"0.1", "0.1"},
    {"5e-324", "5e-324"},
    {"1.7976931348623157e308", "1.7976931348623157e+308"},
    {"-1.5e-10", "-1.5e-10"},
    {"123456789.125", "123456789.125"},
    {"18446744073709551616", "18446744073709552000"},
  };
  for (auto [in, out] : cases) {
    CHECK(norm(in) == out);
    CHECK(norm(out) == out);
  }
  // Integers that fit 64 bits keep every digit (JavaScript would round
  // these two to ...552000 and ...776000; the store does not lose
  // precision, and JavaScript never writes such digits itself).
  CHECK(norm("18446744073709551615") == "18446744073709551615");
  CHECK(norm("-9223372036854775808") == "-9223372036854775808");
}

TEST_CASE("doubles written by the codec parse back to the same double",
          "[codec]") {
  std::mt19937_64 rng(20240601);
  for (int i = 0; i < 20000; ++i) {
    uint64_t bits = rng();
    double x;
    std::memcpy(&x, &bits, sizeof x);
    if (!std::isfinite(x))
      continue;
    auto text = normalize_text(json(x).dump(), defaults);
    REQUIRE(text);
    auto back = json::parse(*text);
    INFO(*text);
    REQUIRE(back.get<double>() == x);
  }
}

// -- Buffer forms ------------------------------------------------------------

TEST_CASE("all three Buffer forms of 0..64 random bytes give one v7 text",
          "[codec]") {
  std::mt19937 rng(7);
  for (size_t n = 0; n <= 64; ++n) {
    for (int trial = 0; trial < 4; ++trial) {
      auto bytes = random_bytes(rng, n);
      auto v7 = form_v7(bytes);
      INFO("n=" << n);
      CHECK(norm(v7) == v7);
      CHECK(norm(form_number_array(bytes)) == v7);
      // An empty Uint8Array serializes as {}, which is an empty object.
      if (n > 0)
        CHECK(norm(form_byte_object(bytes)) == v7);
      CHECK(bytes_of(norm(form_number_array(bytes))) == bytes);
    }
  }
}

TEST_CASE("Buffers are found at any depth in objects and arrays", "[codec]") {
  auto v7 = form_v7("\x01\x02\xff");
  auto num = form_number_array("\x01\x02\xff");
  auto obj = form_byte_object("\x01\x02\xff");
  std::string in = R"({"a":)" + num + R"(,"b":[)" + obj + "," + num
                   + R"(,{"c":[[)" + obj + R"(]]}],"d":{"e":{"f":)" + num
                   + "}}}";
  std::string out = R"({"a":)" + v7 + R"(,"b":[)" + v7 + "," + v7
                    + R"(,{"c":[[)" + v7 + R"(]]}],"d":{"e":{"f":)" + v7
                    + "}}}";
  CHECK(norm(in) == out);
  CHECK(norm(out) == out);
  CHECK(norm("[" + num + "]") == "[" + v7 + "]");
  CHECK(norm(nested(20, "[", "]", obj)) == nested(20, "[", "]", v7));
}

TEST_CASE("the empty buffer round-trips as data:\"\"", "[codec]") {
  const std::string empty = R"({"type":"Buffer","data":""})";
  CHECK(norm(R"({"type":"Buffer","data":[]})") == empty);
  CHECK(norm(empty) == empty);
  CHECK(bytes_of(empty).empty());
  CHECK(norm("{}") == "{}");
  CHECK(norm(R"({"k":{}})") == R"({"k":{}})");
}

TEST_CASE("a v7 Buffer with its members reversed is put in order", "[codec]") {
  CHECK(norm(R"({"data":"AQI=","type":"Buffer"})")
        == R"({"type":"Buffer","data":"AQI="})");
  auto parsed = parse_limited(R"({"data":"AQI=","type":"Buffer"})", defaults);
  REQUIRE(parsed);
  CHECK_FALSE(has_only_v7_buffers(*parsed));
}

TEST_CASE("a Uint8Array object may list its indices in any order", "[codec]") {
  CHECK(norm(R"({"2":3,"0":1,"1":2})") == form_v7("\x01\x02\x03"));
}

TEST_CASE("objects that only resemble a Uint8Array are left alone", "[codec]") {
  for (const char* plain :
       {R"({"0":1,"2":3})", R"({"1":2})", R"({"00":1})", R"({"0":256})",
        R"({"0":-1})", R"({"0":1.5})", R"({"0":"1"})", R"({"0":null})",
        R"({"0":1,"x":2})", R"({"-0":1})", R"({"+0":1})", R"({" 0":1})",
        R"({"0":[1]})", R"([1,2,3])", R"({"type":"buffer","data":[1]})",
        R"({"type":"Blob","data":[1]})", R"({"type":1,"data":[1]})"}) {
    CHECK(norm(plain) == plain);
    auto parsed = parse_limited(plain, defaults);
    REQUIRE(parsed);
    CHECK(has_only_v7_buffers(*parsed));
  }
}

TEST_CASE("issue #17 - an integral double is a byte, so normalizing twice "
          "gives what normalizing once gives",
          "[codec][issue-17]") {
  // Found while writing codec_property_test.cpp: {"0":1.0} was left as an
  // ordinary object and written {"0":1} (as JavaScript writes 1.0), which
  // normalizes again to a Buffer. In JavaScript 1.0 is 1, so it is a byte.
  for (const char* x : {R"({"0":1.0})", R"({"0":1e0})", R"({"0":10E-1})"})
    CHECK(norm(x) == form_v7("\x01"));
  CHECK(norm(R"({"type":"Buffer","data":[1.0,-0.0,2.55e2]})")
        == form_v7(std::string("\x01\x00\xff", 3)));
  for (const char* plain : {R"({"0":1.5})", R"({"0":256.0})", R"({"0":-1.0})"})
    CHECK(norm(norm(plain)) == norm(plain));
  CHECK(norm_error(R"({"type":"Buffer","data":[255.5]})")
        == errc::invalid_buffer);
}

TEST_CASE("protobuf base64 strings without a Buffer tag stay as they are",
          "[codec]") {
  const std::string doc
    = R"({"keyData":"GvoX/8B1bUrEy93eNUoj1eqtqKSMefXUVfJYItCPvuU=",)"
      R"("fingerprint":{"rawId":987654321,"currentIndex":2,)"
      R"("deviceIndexes":[0,12]},"timestamp":"1735689600000",)"
      R"("odd":"not base64!","short":"Zg"})";
  CHECK(norm(doc) == doc);
}

TEST_CASE("undecodable Buffers are invalid_buffer", "[codec]") {
  for (const char* bad :
       {R"({"type":"Buffer","data":[256]})", R"({"type":"Buffer","data":[-1]})",
        R"({"type":"Buffer","data":[1.5]})",
        R"({"type":"Buffer","data":["1"]})",
        R"({"type":"Buffer","data":[null]})",
        R"({"type":"Buffer","data":[true]})",
        R"({"type":"Buffer","data":[[1]]})",
        R"({"type":"Buffer","data":[1e3]})", R"({"type":"Buffer","data":{}})",
        R"({"type":"Buffer","data":7})", R"({"type":"Buffer","data":null})",
        R"({"type":"Buffer"})", R"({"type":"Buffer","data":"","x":1})",
        R"({"type":"Buffer","data":"Zg="})",
        R"({"type":"Buffer","data":"Zh=="})",
        R"({"type":"Buffer","data":"Zm9v\n"})",
        R"({"type":"Buffer","data":"Zm-v"})",
        R"([{"k":{"type":"Buffer","data":[0,1,999]}}])"}) {
    CHECK(norm_error(bad) == errc::invalid_buffer);
    auto parsed = parse_limited(bad, defaults);
    REQUIRE(parsed);
    CHECK_FALSE(has_only_v7_buffers(*parsed));
  }
}

TEST_CASE("a failed normalization leaves the value untouched", "[codec]") {
  auto doc
    = parse_limited(R"({"good":{"type":"Buffer","data":[1,2]},"u8":{"0":9},)"
                    R"("bad":{"type":"Buffer","data":[300]}})",
                    defaults);
  REQUIRE(doc);
  const json before = *doc;
  auto r = normalize_buffers(*doc);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_buffer);
  CHECK(*doc == before);
}

TEST_CASE("has_only_v7_buffers tells normalized values from the rest",
          "[codec]") {
  auto check = [](const std::string& text, bool expected) {
    auto value = parse_limited(text, defaults);
    REQUIRE(value);
    INFO(text);
    CHECK(has_only_v7_buffers(*value) == expected);
    REQUIRE(normalize_buffers(*value));
    CHECK(has_only_v7_buffers(*value));
  };
  check(R"({"a":[{"type":"Buffer","data":[1]}]})", false);
  check(R"({"a":[{"k":{"0":1}}]})", false);
  check(R"({"a":[{"type":"Buffer","data":"AQ=="}]})", true);
  check(R"("just text")", true);
  check(R"([1,2,{"x":{}}])", true);
}

TEST_CASE("normalize_buffers works on values built in code", "[codec]") {
  // Signed integers (json(5)) are bytes as much as parsed unsigned ones.
  json v = {{"k", {{"type", "Buffer"}, {"data", json::array({1, 2, 255})}}},
            {"u", {{"0", 0}, {"1", 128}}}};
  REQUIRE(normalize_buffers(v));
  CHECK(v["k"] == json({{"type", "Buffer"}, {"data", "AQL/"}}));
  CHECK(v["u"] == json({{"type", "Buffer"}, {"data", "AIA="}}));
  CHECK(has_only_v7_buffers(v));
  // Depth beyond any parse limit: the walk uses no recursion.
  json deep = json::array();
  json* at = &deep;
  for (int i = 0; i < 100000; ++i)
    at = &(*at)[0];
  *at = {{"0", 1}};
  REQUIRE(normalize_buffers(deep));
  CHECK(has_only_v7_buffers(deep));
}

TEST_CASE("normalized text within the input limit can still be too large",
          "[codec]") {
  // 1e20 is written out in full by JSON.stringify: 6 bytes become 23.
  codec_limits limits;
  limits.max_value_bytes = 6;
  CHECK(norm_error("[1e20]", limits) == errc::value_too_large);
  limits.max_value_bytes = 23;
  auto ok = normalize_text("[1e20]", limits);
  REQUIRE(ok);
  CHECK(*ok == "[100000000000000000000]");
}

TEST_CASE("issue #17 - normalized values within the field limit can still "
          "have too many fields",
          "[codec][issue-17]") {
  // A one-byte Uint8Array has one member, its Buffer two: [{"0":1},{"0":2}]
  // has 4 fields and normalizes to 6. Unchecked, a value stored under the
  // limit failed when written back (found by reasoning about the property
  // test's idempotence; the fuzz target checks it too).
  const std::string doc = R"([{"0":1},{"0":2}])";
  codec_limits limits;
  limits.max_fields = 5;
  CHECK(parse_limited(doc, limits));
  CHECK(norm_error(doc, limits) == errc::too_many_fields);
  limits.max_fields = 6;
  auto ok = normalize_text(doc, limits);
  REQUIRE(ok);
  auto again = normalize_text(*ok, limits);
  REQUIRE(again);
  CHECK(*again == *ok);
}

TEST_CASE("normalizing twice gives what normalizing once gives", "[codec]") {
  std::mt19937 rng(99);
  std::vector<std::string> docs = {
    R"({"a":{"type":"Buffer","data":[1,2,3]},"b":{"0":4},"c":[1.0,"x"]})",
    R"([{"data":"AQI=","type":"Buffer"},{"type":"Buffer","data":[]}])",
    R"({"n":1e21,"m":-0.0,"s":"\u00e9\/"})",
  };
  for (size_t n = 1; n < 40; n += 3) {
    auto bytes = random_bytes(rng, n);
    docs.push_back("{\"x\":[" + form_byte_object(bytes) + ","
                   + form_number_array(bytes) + "]}");
  }
  for (auto& doc : docs) {
    auto once = norm(doc);
    CHECK(norm(once) == once);
  }
}

TEST_CASE("mangled input never escapes as an exception", "[codec]") {
  // Seeded byte flips, insertions and truncations of a realistic value:
  // every result is a failure or a fixed point of normalization.
  const std::string base
    = R"({"private":{"type":"Buffer","data":[1,2,3,250]},"public":{"0":9,)"
      R"("1":8},"n":[1.5,-2,1e21,"str\u00e9"],"t":true,"z":null})";
  std::mt19937 rng(31337);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    std::string text = base;
    for (int edits = 1 + i % 3; edits > 0; --edits) {
      size_t at = static_cast<size_t>(rng()) % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = static_cast<char>(byte(rng));
          break;
        case 1:
          text.insert(at, 1, static_cast<char>(byte(rng)));
          break;
        default:
          text.resize(at);
          break;
      }
      if (text.empty())
        text = "{";
    }
    outcome<std::string> out{errc::internal, ""};
    REQUIRE_NOTHROW(out = normalize_text(text, defaults));
    if (out)
      REQUIRE(norm(*out) == *out);
  }
}

} // namespace codec_test
