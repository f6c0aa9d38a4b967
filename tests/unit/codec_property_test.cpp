// codec_property_test.cpp -- the codec's two promises (issue #17) as
// properties over generated JSON (messages/codec.hpp):
//   1. normalize is idempotent: for any JSON value within the limits,
//      normalize(normalize(x)) == normalize(x);
//   2. every Buffer form of the same bytes normalizes to the same text, at
//      any depth, whatever else the value holds.
//
// The generator builds a value tree (objects, arrays, strings with escapes,
// control and astral characters, integers and edge doubles, Buffers, and
// objects that only resemble Uint8Arrays) and writes it as text in many
// ways: each Buffer in form 1, 2 or 3, strings raw or \u-escaped, numbers
// in several spellings of the same value (1, 1.0, 1e0; 0.5, 5e-1, 5E-1),
// with or without whitespace. All spellings of one tree must normalize to
// one text, and that text to itself. Exhaustive over the small domains
// (every byte value, the empty buffer, every length 0..64, a Buffer at
// every depth up to the limit), in the manner of nlohmann's tests.
//
// The seed is printed; AUTHSTORE_TEST_SEED=<n> repeats a run.
#include "messages/codec.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace codec_property_test {

using namespace authstore;

namespace {

const codec_limits defaults;

/// The run's seed: AUTHSTORE_TEST_SEED, else random; printed once.
uint64_t run_seed() {
  static const uint64_t seed = [] {
    uint64_t s = 0;
    if (const char* env = std::getenv("AUTHSTORE_TEST_SEED"))
      s = std::strtoull(env, nullptr, 10);
    else
      s = (uint64_t{std::random_device{}()} << 32) | std::random_device{}();
    std::cout << "codec_property_test: seed " << s
              << " (AUTHSTORE_TEST_SEED=" << s << " repeats this run)\n";
    return s;
  }();
  return seed;
}

using rng_t = std::mt19937_64;

size_t below(rng_t& rng, size_t n) {
  return static_cast<size_t>(rng() % n);
}

bool coin(rng_t& rng) {
  return rng() & 1;
}

// -- the value tree
// ------------------------------------------------------------

struct value {
  enum kind_t { null, boolean, integer, real, text, array, object, buffer };
  kind_t kind = null;
  bool flag = false;
  int64_t number = 0; // integer
  double real_number = 0;
  std::u32string chars; // text: code points
  std::vector<value> items;
  std::vector<std::pair<std::u32string, value>> members;
  std::string bytes; // buffer
};

/// Code points worth having: ASCII (quote, backslash, slash included),
/// control characters, two- and three-byte ones, U+2028/9, astral ones.
char32_t random_char(rng_t& rng) {
  static const char32_t picks[]
    = {U'"',   U'\\',  U'/',   U'\b',  U'\f',   U'\n',   U'\r',
       U'\t',  0x00,   0x1F,   0x7F,   0xE9,    0x7FF,   0x800,
       0x2028, 0x2029, 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF};
  switch (below(rng, 4)) {
    case 0:
      return picks[below(rng, std::size(picks))];
    case 1:
      return static_cast<char32_t>(0x20 + below(rng, 0x5F)); // printable
    case 2: { // any BMP code point but a surrogate
      char32_t c;
      do
        c = static_cast<char32_t>(below(rng, 0x10000));
      while (c >= 0xD800 && c <= 0xDFFF);
      return c;
    }
    default:
      return static_cast<char32_t>(0x10000 + below(rng, 0x100000));
  }
}

std::u32string random_text(rng_t& rng, size_t max) {
  std::u32string s;
  for (size_t n = below(rng, max + 1); n > 0; --n)
    s.push_back(random_char(rng));
  return s;
}

/// A finite double: edge cases, integral ones, and random bit patterns.
double random_double(rng_t& rng) {
  static const double picks[] = {0.0,
                                 -0.0,
                                 0.1,
                                 0.5,
                                 1.5,
                                 -2.25,
                                 1e21,
                                 1e-7,
                                 1e-6,
                                 123456789012345680000.0,
                                 5e-324,
                                 2.2250738585072014e-308,
                                 1.7976931348623157e308,
                                 -1.7976931348623157e308,
                                 9007199254740993.0,
                                 18446744073709551616.0,
                                 -9223372036854775809.0,
                                 255.0,
                                 256.0};
  if (coin(rng))
    return picks[below(rng, std::size(picks))];
  double d;
  do {
    uint64_t bits = rng();
    std::memcpy(&d, &bits, sizeof d);
  } while (!std::isfinite(d));
  return d;
}

std::string random_bytes(rng_t& rng, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s.push_back(static_cast<char>(rng() & 0xFF));
  return s;
}

/// A key of an ordinary object: never "type" (a member "type":"Buffer"
/// would make it a Buffer) and never all digits (the keys of an object
/// could then be 0..n-1); look-alike objects are made on purpose below.
std::u32string random_key(rng_t& rng) {
  auto k = random_text(rng, 6);
  return U"k" + k;
}

value random_value(rng_t& rng, size_t depth);

/// An object that only resembles a Uint8Array: indices from 1, a value
/// out of range or not integral. It must stay an ordinary object.
value look_alike(rng_t& rng) {
  value v;
  v.kind = value::object;
  size_t n = 1 + below(rng, 4);
  size_t odd = below(rng, 3);
  for (size_t i = 0; i < n; ++i) {
    value x;
    x.kind = value::integer;
    x.number = static_cast<int64_t>(below(rng, 256));
    std::string key = std::to_string(odd == 0 ? i + 1 : i);
    if (odd == 1 && i == n - 1)
      x.number = 256 + static_cast<int64_t>(below(rng, 1000));
    if (odd == 2 && i == n - 1) {
      x.kind = value::real;
      x.real_number = 0.5 + static_cast<double>(below(rng, 255));
    }
    v.members.emplace_back(std::u32string(key.begin(), key.end()),
                           std::move(x));
  }
  return v;
}

value random_value(rng_t& rng, size_t depth) {
  value v;
  size_t pick = below(rng, depth >= 6 ? 5 : 9);
  switch (pick) {
    case 0:
      v.kind = value::null;
      break;
    case 1:
      v.kind = value::boolean;
      v.flag = coin(rng);
      break;
    case 2:
      v.kind = value::integer;
      v.number = coin(rng) ? static_cast<int64_t>(below(rng, 600)) - 300
                           : static_cast<int64_t>(rng());
      break;
    case 3:
      v.kind = value::real;
      v.real_number = random_double(rng);
      break;
    case 4:
      v.kind = value::text;
      v.chars = random_text(rng, 12);
      break;
    case 5:
      v.kind = value::buffer;
      v.bytes = random_bytes(rng, below(rng, 3) == 0 ? 0 : below(rng, 40));
      break;
    case 6:
      return look_alike(rng);
    case 7:
      v.kind = value::array;
      for (size_t n = below(rng, 6); n > 0; --n)
        v.items.push_back(random_value(rng, depth + 1));
      break;
    default: {
      v.kind = value::object;
      std::vector<std::u32string> seen;
      for (size_t n = below(rng, 6); n > 0; --n) {
        auto k = random_key(rng);
        if (std::find(seen.begin(), seen.end(), k) != seen.end())
          continue; // keys are unique
        seen.push_back(k);
        v.members.emplace_back(std::move(k), random_value(rng, depth + 1));
      }
    }
  }
  return v;
}

// -- writing the tree as text, in many spellings
// -------------------------------

/// How one rendering spells what it writes.
struct spelling {
  enum buffer_form { v7, numbers, object, mixed };
  buffer_form form = v7;
  bool escape_all = false; // \u-escape every character
  bool vary = false;       // pick a spelling per string, number and buffer
  bool spaces = false;     // whitespace between tokens
  rng_t* rng = nullptr;

  bool pick() const { return vary && coin(*rng); }
};

void put_utf8(char32_t c, std::string& out) {
  auto put = [&](uint32_t x) {
    out.push_back(static_cast<char>(x));
  };
  if (c < 0x80) {
    put(c);
  } else if (c < 0x800) {
    put(0xC0 | (c >> 6));
    put(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    put(0xE0 | (c >> 12));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  } else {
    put(0xF0 | (c >> 18));
    put(0x80 | ((c >> 12) & 0x3F));
    put(0x80 | ((c >> 6) & 0x3F));
    put(0x80 | (c & 0x3F));
  }
}

void put_escape(uint32_t unit, bool upper, std::string& out) {
  static constexpr char lower_hex[] = "0123456789abcdef";
  static constexpr char upper_hex[] = "0123456789ABCDEF";
  const char* hex = upper ? upper_hex : lower_hex;
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4)
    out.push_back(hex[(unit >> shift) & 0xF]);
}

void write_text(const std::u32string& s, const spelling& sp, std::string& out) {
  out.push_back('"');
  for (char32_t c : s) {
    bool escape = sp.escape_all || sp.pick();
    if (escape) {
      bool upper = sp.pick();
      if (c >= 0x10000) { // a surrogate pair
        auto v = static_cast<uint32_t>(c) - 0x10000;
        put_escape(0xD800 | (v >> 10), upper, out);
        put_escape(0xDC00 | (v & 0x3FF), upper, out);
      } else {
        put_escape(static_cast<uint32_t>(c), upper, out);
      }
    } else if (c == U'"') {
      out += "\\\"";
    } else if (c == U'\\') {
      out += "\\\\";
    } else if (c == U'/' && sp.pick()) {
      out += "\\/";
    } else if (c == U'\n') {
      out += "\\n";
    } else if (c < 0x20) {
      put_escape(static_cast<uint32_t>(c), false, out);
    } else {
      put_utf8(c, out);
    }
  }
  out.push_back('"');
}

/// `x` in the shortest text that reads back as `x`, in `format`, with an
/// upper-case E and an explicit + in the exponent when `loud`.
std::string double_text(double x, std::chars_format format, bool loud) {
  char buf[400];
  auto res = std::to_chars(buf, buf + sizeof buf, x, format);
  std::string s(buf, res.ptr);
  if (loud)
    if (auto e = s.find('e'); e != std::string::npos) {
      s[e] = 'E';
      if (s[e + 1] != '-' && s[e + 1] != '+')
        s.insert(e + 1, "+");
    }
  // JSON has no leading '+', and "inf"/"nan" cannot occur (finite only).
  return s;
}

void write_real(double x, const spelling& sp, std::string& out) {
  auto format = std::chars_format::general;
  if (sp.pick())
    format = coin(*sp.rng) ? std::chars_format::scientific
                           : std::chars_format::fixed;
  auto s = double_text(x, format, sp.pick());
  // Spelled without '.' or 'e', a double from 2^53 to 2^64 reads back as
  // the exact integer (1234567890123456768), which the codec keeps digit
  // for digit, while the double's own text is its shortest form
  // (1234567890123456800, as JSON.stringify writes it): two numbers, not
  // two spellings of one. Such doubles are spelled with an exponent.
  if (s.find_first_of(".eE") == std::string::npos
      && std::abs(x) >= 9007199254740992.0
      && std::abs(x) < 18446744073709551616.0)
    s = double_text(x, std::chars_format::scientific, false);
  out += s;
}

void write_integer(int64_t x, const spelling& sp, std::string& out) {
  // Integers below 2^53 are exact as doubles: 7 may be spelled 7.0 or 7e0,
  // which JavaScript reads as the same number.
  bool exact = x > -9007199254740992 && x < 9007199254740992;
  switch (exact && sp.vary ? below(*sp.rng, 3) : 0) {
    case 0:
      out += std::to_string(x);
      break;
    case 1:
      out += std::to_string(x) + ".0";
      break;
    default:
      out += std::to_string(x) + "e0";
      break;
  }
}

void write_value(const value& v, const spelling& sp, std::string& out);

void write_buffer(const std::string& bytes, const spelling& sp,
                  std::string& out) {
  auto form = sp.form;
  if (form == spelling::mixed)
    form = static_cast<spelling::buffer_form>(below(*sp.rng, 3));
  // An empty Uint8Array is {}, which is an ordinary object, not a Buffer.
  if (form == spelling::object && bytes.empty())
    form = spelling::numbers;
  const char* gap = sp.spaces ? " " : "";
  auto byte = [&](size_t i) {
    std::string t;
    write_integer(static_cast<unsigned char>(bytes[i]), sp, t);
    return t;
  };
  switch (form) {
    case spelling::v7:
      out += std::string{"{"} + gap + R"("type":)" + gap + R"("Buffer",)" + gap
             + R"("data":)" + gap + "\"" + base64_encode(bytes) + "\"" + gap
             + "}";
      break;
    case spelling::numbers:
      out
        += std::string{"{"} + gap + R"("type":"Buffer",)" + gap + R"("data":[)";
      for (size_t i = 0; i < bytes.size(); ++i)
        out += (i ? std::string{","} + gap : "") + byte(i);
      out += "]}";
      break;
    default:
      out += "{";
      for (size_t i = 0; i < bytes.size(); ++i)
        out += (i ? std::string{","} + gap : "") + "\"" + std::to_string(i)
               + "\":" + gap + byte(i);
      out += "}";
  }
}

void write_value(const value& v, const spelling& sp, std::string& out) {
  const char* gap = sp.spaces ? " \n\t" : "";
  switch (v.kind) {
    case value::null:
      out += "null";
      break;
    case value::boolean:
      out += v.flag ? "true" : "false";
      break;
    case value::integer:
      write_integer(v.number, sp, out);
      break;
    case value::real:
      write_real(v.real_number, sp, out);
      break;
    case value::text:
      write_text(v.chars, sp, out);
      break;
    case value::buffer:
      write_buffer(v.bytes, sp, out);
      break;
    case value::array:
      out += "[";
      for (size_t i = 0; i < v.items.size(); ++i) {
        out += (i ? std::string{","} + gap : gap);
        write_value(v.items[i], sp, out);
      }
      out += std::string{gap} + "]";
      break;
    case value::object:
      out += "{";
      for (size_t i = 0; i < v.members.size(); ++i) {
        out += (i ? std::string{","} + gap : gap);
        write_text(v.members[i].first, sp, out);
        out += std::string{gap} + ":" + gap;
        write_value(v.members[i].second, sp, out);
      }
      out += std::string{gap} + "}";
      break;
  }
}

std::string render(const value& v, spelling sp, rng_t& rng) {
  sp.rng = &rng;
  std::string out;
  write_value(v, sp, out);
  return out;
}

/// normalize_text under the default limits, which must succeed.
std::string norm(const std::string& text) {
  auto out = normalize_text(text, defaults);
  INFO("text: " << text);
  if (!out)
    FAIL("normalize failed: " << out.error().render());
  return *out;
}

/// The three Buffer forms of `bytes`, as text.
std::vector<std::string> forms(const std::string& bytes) {
  value v;
  v.kind = value::buffer;
  v.bytes = bytes;
  rng_t unused{0};
  std::vector<std::string> out;
  for (auto f : {spelling::v7, spelling::numbers, spelling::object}) {
    spelling sp;
    sp.form = f;
    out.push_back(render(v, sp, unused));
  }
  return out;
}

std::string v7_text(const std::string& bytes) {
  return R"({"type":"Buffer","data":")" + base64_encode(bytes) + "\"}";
}

} // namespace

TEST_CASE("normalize is idempotent on generated values within the limits",
          "[codec][property][issue-17]") {
  rng_t rng{run_seed()};
  for (int i = 0; i < 3000; ++i) {
    auto v = random_value(rng, 0);
    spelling sp;
    sp.form = spelling::mixed;
    sp.vary = true;
    sp.spaces = coin(rng);
    auto text = render(v, sp, rng);
    auto once = norm(text);
    INFO("value " << i << ": " << text);
    CHECK(norm(once) == once);
    auto parsed = parse_limited(once, defaults);
    REQUIRE(parsed);
    CHECK(has_only_v7_buffers(*parsed));
  }
}

TEST_CASE("every spelling of one generated value normalizes to one text",
          "[codec][property][issue-17]") {
  rng_t rng{run_seed() ^ 0x9e3779b97f4a7c15};
  for (int i = 0; i < 1500; ++i) {
    auto v = random_value(rng, 0);
    spelling plain; // v7 Buffers, compact, no escapes beyond the needed
    auto expected = norm(render(v, plain, rng));
    std::vector<spelling> others(6);
    others[0].form = spelling::numbers;
    others[1].form = spelling::object;
    others[2].form = spelling::mixed;
    others[2].vary = true;
    others[3].form = spelling::mixed;
    others[3].vary = true;
    others[3].spaces = true;
    others[4].escape_all = true;
    others[4].form = spelling::object;
    others[5].form = spelling::mixed;
    others[5].vary = true;
    others[5].escape_all = true;
    others[5].spaces = true;
    for (const auto& sp : others) {
      auto text = render(v, sp, rng);
      INFO("value " << i << ": " << text);
      CHECK(norm(text) == expected);
    }
  }
}

TEST_CASE("every byte value, in each Buffer form, normalizes to its v7 text",
          "[codec][property][issue-17]") {
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    for (const auto& f : forms(one))
      CHECK(norm(f) == v7_text(one));
    // ... and as the integral double JavaScript does not tell apart.
    auto d = "{\"0\":" + std::to_string(b) + ".0}";
    CHECK(norm(d) == v7_text(one));
  }
  CHECK(norm(R"({"0":256})") == R"({"0":256})");
  CHECK(norm(R"({"0":-1})") == R"({"0":-1})");
}

TEST_CASE("the empty buffer is data:\"\" in the forms that can hold it",
          "[codec][property][issue-17]") {
  auto empty = forms("");
  CHECK(norm(empty[0]) == R"({"type":"Buffer","data":""})");
  CHECK(norm(empty[1]) == R"({"type":"Buffer","data":""})");
  CHECK(empty[2] == empty[1]); // {} is not written for the empty buffer
  CHECK(norm("{}") == "{}");   // ... because {} is an ordinary object
}

TEST_CASE("every length 0..64, in each Buffer form and mixed, gives one v7 "
          "text",
          "[codec][property][issue-17]") {
  rng_t rng{run_seed() + 64};
  for (size_t n = 0; n <= 64; ++n) {
    for (const auto& bytes :
         {random_bytes(rng, n), std::string(n, '\0'), std::string(n, '\xff')}) {
      for (const auto& f : forms(bytes))
        CHECK(norm(f) == v7_text(bytes));
      // All three side by side in one array, and inside one another's
      // neighbours: each is found and rewritten on its own.
      auto all = forms(bytes);
      auto doc = "[" + all[0] + "," + all[1] + "," + all[2] + "]";
      auto v7 = v7_text(bytes);
      CHECK(norm(doc) == "[" + v7 + "," + v7 + "," + v7 + "]");
      auto back = base64_decode(base64_encode(bytes));
      REQUIRE(back);
      CHECK(*back == bytes);
    }
  }
}

TEST_CASE("a Buffer at every depth up to the limit normalizes the same",
          "[codec][property][issue-17]") {
  const std::string bytes = "\x01\x02\xfe";
  auto all = forms(bytes);
  // depth d: d - 1 containers around the Buffer object (itself depth 1,
  // form 2 depth 2), alternating arrays and objects.
  for (size_t d = 1; d + 1 <= defaults.max_depth; ++d) {
    std::string expected = v7_text(bytes);
    std::vector<std::string> texts = all;
    for (size_t level = 1; level < d; ++level) {
      auto wrap = [&](const std::string& x) {
        return level % 2 ? "[" + x + "]" : "{\"k\":" + x + "}";
      };
      expected = wrap(expected);
      for (auto& t : texts)
        t = wrap(t);
    }
    for (const auto& t : texts) {
      INFO("depth " << d << ": " << t);
      CHECK(norm(t) == expected);
      CHECK(norm(expected) == expected);
    }
  }
}

} // namespace codec_property_test
