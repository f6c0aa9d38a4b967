// Tests of crypto/sealed_value.hpp and crypto/value_cipher.hpp: round
// trips, the associated data (each bound field), tampering at every byte,
// unknown keys, plaintext pass-through, and an encoding every store keeps.
//
// The libFuzzer target for open() and the header is fuzz/crypto_fuzz.cpp
// (odd first byte): any stored bytes give a plaintext or decrypt_failed,
// never another code, and seal-then-open round-trips with the associated
// data binding session and field.
#include "crypto/sealed_value.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "crypto/value_cipher.hpp"
#include "messages/codec.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace sealed_value_test {

using namespace authstore;
using namespace authstore::crypto;

namespace {

key_ring make_ring(const std::string& text) {
  auto r = key_ring::parse(text, "test");
  REQUIRE(r);
  return std::move(*r);
}

std::string key_line(const std::string& id, char fill) {
  return id + " " + base64_encode(std::string(key_bytes, fill)) + "\n";
}

const std::string value
  = R"({"noiseKey":{"private":{"type":"Buffer","data":"AQID"}}})";

std::string sealed_or_fail(const key& k, std::string_view sid,
                           std::string_view field, std::string_view plain) {
  auto s = seal(k, sid, field, plain);
  REQUIRE(s);
  return *s;
}

} // namespace

TEST_CASE("a sealed value opens to its plaintext for its own place",
          "[crypto][seal]") {
  auto ring = make_ring(key_line("k1", 'a'));
  for (std::string plain :
       {value, std::string{}, std::string{"1"}, std::string(100000, 'x')}) {
    auto s = sealed_or_fail(ring.active(), "5511999", "c:me", plain);
    CHECK(is_sealed(s));
    CHECK(s.rfind("~1.k1.", 0) == 0);
    CHECK(s.size()
          == 6 + base64_encode(std::string(plain.size() + 28, '\0')).size());
    auto back = open(ring, "5511999", "c:me", s);
    REQUIRE(back);
    CHECK(*back == plain);
  }
}

TEST_CASE("one thread seals and opens values of every size in turn (its "
          "per-thread buffers reused)",
          "[crypto][seal][thread-state]") {
  auto ring = make_ring(key_line("k1", 'a'));
  std::vector<std::string> plains
    = {std::string(100000, 'x'), "", "1", value, std::string(5000, 'y'), "ab"};
  std::vector<std::string> sealed;
  for (size_t i = 0; i < plains.size(); ++i)
    sealed.push_back(sealed_or_fail(
      ring.active(), "s", "k:pre-key/" + std::to_string(i), plains[i]));
  auto tampered = sealed[0];
  tampered[tampered.size() / 2]
    = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  // Backwards (sizes shrink and grow), a failed open of the longest value
  // between any two: each opens to exactly its own bytes.
  for (size_t k = plains.size(); k-- > 0;) {
    CHECK_FALSE(open(ring, "s", "k:pre-key/0", tampered));
    auto back = open(ring, "s", "k:pre-key/" + std::to_string(k), sealed[k]);
    REQUIRE(back);
    CHECK(*back == plains[k]);
  }
}

TEST_CASE("two seals of one value differ (a random nonce each)",
          "[crypto][seal]") {
  auto ring = make_ring(key_line("k1", 'a'));
  auto a = sealed_or_fail(ring.active(), "s", "k:pre-key/1", value);
  auto b = sealed_or_fail(ring.active(), "s", "k:pre-key/1", value);
  CHECK(a != b);
}

TEST_CASE("a value moved to another session, kind, type or id fails to "
          "open",
          "[crypto][seal][aad]") {
  auto ring = make_ring(key_line("k1", 'a'));
  struct place {
    const char* sid;
    const char* field;
  };
  const place places[] = {
    {"s1", "k:pre-key/1"},  // the original
    {"s2", "k:pre-key/1"},  // another session
    {"s1", "c:pre-key/1"},  // another kind (creds field of the same text)
    {"s1", "k:session/1"},  // another type
    {"s1", "k:pre-key/2"},  // another id
    {"s1", "k:pre-key/1/"}, // a longer id
    {"s1x", "k:pre-key/1"}, // a session id that shares a prefix
    {"s", "1k:pre-key/1"},  // bytes shifted from sid into the field
  };
  for (size_t from = 0; from < std::size(places); ++from) {
    auto s = sealed_or_fail(ring.active(), places[from].sid, places[from].field,
                            value);
    for (size_t to = 0; to < std::size(places); ++to) {
      INFO(places[from].sid << " " << places[from].field << " -> "
                            << places[to].sid << " " << places[to].field);
      auto back = open(ring, places[to].sid, places[to].field, s);
      if (from == to) {
        REQUIRE(back);
        CHECK(*back == value);
      } else {
        REQUIRE_FALSE(back);
        CHECK(back.error().code == errc::decrypt_failed);
      }
    }
  }
}

TEST_CASE("a changed byte anywhere in a sealed value fails to open",
          "[crypto][seal][tamper]") {
  auto ring = make_ring(key_line("k1", 'a') + key_line("k2", 'b'));
  auto s = sealed_or_fail(ring.active(), "s", "c:me", "{\"a\":1}");
  for (size_t i = 0; i < s.size(); ++i) {
    for (char delta : {char{1}, char{0x20}}) {
      auto t = s;
      t[i] = static_cast<char>(t[i] ^ delta);
      INFO("byte " << i << " xor " << int(delta));
      auto back = open(ring, "s", "c:me", t);
      // Flipping the mark makes it plaintext: it is then handed back
      // as stored, never as the decrypted value.
      if (back)
        CHECK(*back == t);
      else
        CHECK(back.error().code == errc::decrypt_failed);
      CHECK_FALSE((back && *back == "{\"a\":1}"));
    }
  }
  // Truncations and an extension.
  for (size_t n = 0; n < s.size(); ++n) {
    auto back = open(ring, "s", "c:me", s.substr(0, n));
    CHECK_FALSE((back && *back == "{\"a\":1}"));
    if (n > 0)
      CHECK_FALSE(back);
  }
  CHECK_FALSE(open(ring, "s", "c:me", s + "AAAA"));
}

TEST_CASE("a value of a key missing from the ring, or of another key with "
          "the same id, is decrypt_failed naming the key id",
          "[crypto][seal]") {
  auto old_ring = make_ring(key_line("old", 'a'));
  auto s = sealed_or_fail(old_ring.active(), "s", "c:me", value);
  auto without = make_ring(key_line("new", 'b'));
  auto missing = open(without, "s", "c:me", s);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::decrypt_failed);
  CHECK_THAT(missing.error().detail, Catch::Contains("'old'"));
  CHECK_THAT(missing.error().detail, Catch::Contains("no such key"));
  auto wrong = make_ring(key_line("old", 'c'));
  auto bad = open(wrong, "s", "c:me", s);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::decrypt_failed);
  CHECK_THAT(bad.error().detail, Catch::Contains("authentication failed"));
  // A ring holding both opens it, whichever key is active.
  auto both = make_ring(key_line("new", 'b') + key_line("old", 'a'));
  auto ok = open(both, "s", "c:me", s);
  REQUIRE(ok);
  CHECK(*ok == value);
}

TEST_CASE("a relabelled header (key id or format version) fails to open",
          "[crypto][seal][aad]") {
  // Both keys equal: only the associated data can tell the labels apart.
  auto ring = make_ring(key_line("k1", 'a') + key_line("k2", 'a'));
  auto s = sealed_or_fail(ring.active(), "s", "c:me", value);
  REQUIRE(s.rfind("~1.k1.", 0) == 0);
  auto relabelled = "~1.k2." + s.substr(6);
  CHECK_FALSE(open(ring, "s", "c:me", relabelled));
  auto version = "~2.k1." + s.substr(6);
  auto v = open(ring, "s", "c:me", version);
  REQUIRE_FALSE(v);
  CHECK_THAT(v.error().detail, Catch::Contains("format version"));
}

TEST_CASE("plaintext JSON passes through: no JSON text starts with the mark",
          "[crypto][seal][plaintext]") {
  auto ring = make_ring(key_line("k1", 'a'));
  for (std::string plain :
       {value, std::string{"[1,2]"}, std::string{"\"x\""}, std::string{"-1"},
        std::string{"0"}, std::string{"true"}, std::string{"false"},
        std::string{"null"}}) {
    CHECK_FALSE(is_sealed(plain));
    auto back = open(ring, "s", "c:me", plain);
    REQUIRE(back);
    CHECK(*back == plain);
  }
  // Exhaustive over the first byte: only '~' is the mark, and '~' starts no
  // JSON text (nlohmann refuses it).
  for (int b = 0; b < 256; ++b) {
    std::string text(1, static_cast<char>(b));
    text += "1";
    CHECK(is_sealed(text) == (b == '~'));
  }
  CHECK_FALSE(json::accept("~1.k1.AAAA"));
}

TEST_CASE("sealed text is printable ASCII (UTF-8 for BSON, bytes for Redis "
          "and bytea)",
          "[crypto][seal]") {
  auto ring = make_ring(key_line("k-1_", 'a'));
  std::string binary;
  for (int b = 0; b < 256; ++b)
    binary += static_cast<char>(b);
  auto s = sealed_or_fail(ring.active(), "s", "k:x/y", binary);
  for (unsigned char c : s)
    CHECK((c >= 0x21 && c <= 0x7e));
}

TEST_CASE("the value cipher seals every write of a patch and counts",
          "[crypto][cipher]") {
  security_counters counters;
  value_cipher uut{make_ring(key_line("k1", 'a')), &counters};
  patch p;
  p.expected_version = 7;
  p.set_creds("me", value);
  p.erase_key("pre-key", "1");
  p.set_key("session", "a.b", "{}");
  auto sealed = uut.seal_patch("s", p);
  REQUIRE(sealed);
  REQUIRE(sealed->writes.size() == 3);
  CHECK(sealed->expected_version == 7);
  CHECK(is_sealed(sealed->writes[0].value));
  CHECK(sealed->writes[1] == p.writes[1]); // an erase stays an erase
  CHECK(is_sealed(sealed->writes[2].value));
  CHECK(counters.sealed == 2);
  for (size_t i : {size_t{0}, size_t{2}}) {
    auto back = uut.open("s", sealed->writes[i].field, sealed->writes[i].value);
    REQUIRE(back);
    CHECK(*back == p.writes[i].value);
  }
  CHECK(counters.opened == 2);
  CHECK(uut.open("s", "c:me", "{\"old\":1}"));
  CHECK(counters.plaintext_reads == 1);
  CHECK_FALSE(uut.open("other", "c:me", sealed->writes[0].value));
  CHECK(counters.decrypt_failures == 1);
}

TEST_CASE("the value cipher keeps everything of a patch but its values: the "
          "lease, if_absent, replace, min_version",
          "[crypto][cipher]") {
  value_cipher uut{make_ring(key_line("k1", 'a')), nullptr};
  patch p;
  p.set_key("pre-key", "1", value);
  p.erase_creds("me");
  p.lease = {"holder-1", 42};
  p.if_absent = true;
  p.replace = true;
  p.min_version = 9;
  p.expected_version = 3;
  auto sealed = uut.seal_patch("s", p);
  REQUIRE(sealed);
  CHECK(sealed->lease == p.lease);
  CHECK(sealed->if_absent);
  CHECK(sealed->replace);
  CHECK(sealed->min_version == 9);
  CHECK(sealed->expected_version == 3);
  // The same patch but for the sealed value: nothing else differs.
  auto expect = p;
  expect.writes[0].value = sealed->writes[0].value;
  CHECK(*sealed == expect);
  CHECK(is_sealed(sealed->writes[0].value));
}

// -- the per-thread cipher state (sealed_value.cpp keeps a context per thread
// and direction, the key it holds, and a pool of nonces) -----------------

namespace {

/// The nonce of a sealed value (the first 12 bytes of its body).
std::string nonce_of(const std::string& sealed) {
  auto h = parse_header(sealed);
  REQUIRE(h);
  auto raw = base64_decode(h->body);
  REQUIRE(raw);
  return raw->substr(0, nonce_bytes);
}

} // namespace

TEST_CASE("keys switched between values, even under one key id, seal and "
          "open with the key given each time",
          "[crypto][seal][thread-state]") {
  // Same id, different bytes: the kept key must be compared by its bytes.
  auto ring_a = make_ring(key_line("k", 'a'));
  auto ring_c = make_ring(key_line("k", 'c'));
  auto ring_b = make_ring(key_line("other", 'b'));
  for (int round = 0; round < 3; ++round) {
    auto sa = sealed_or_fail(ring_a.active(), "s", "c:me", value);
    auto sc = sealed_or_fail(ring_c.active(), "s", "c:me", value);
    auto sb = sealed_or_fail(ring_b.active(), "s", "c:me", value);
    CHECK(*open(ring_a, "s", "c:me", sa) == value);
    CHECK_FALSE(open(ring_a, "s", "c:me", sc));
    CHECK(*open(ring_c, "s", "c:me", sc) == value);
    CHECK_FALSE(open(ring_c, "s", "c:me", sa));
    CHECK(*open(ring_b, "s", "c:me", sb) == value);
    CHECK(*open(ring_a, "s", "c:me", sa) == value);
  }
}

TEST_CASE("a failed open leaves the thread able to seal and open",
          "[crypto][seal][thread-state]") {
  auto ring = make_ring(key_line("k1", 'a'));
  auto wrong = make_ring(key_line("k1", 'z'));
  auto s = sealed_or_fail(ring.active(), "s", "k:pre-key/1", value);
  auto tampered = s;
  tampered[tampered.size() - 3]
    = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  for (int i = 0; i < 3; ++i) {
    CHECK_FALSE(open(ring, "s", "k:pre-key/1", tampered));
    CHECK_FALSE(open(wrong, "s", "k:pre-key/1", s));
    CHECK_FALSE(open(ring, "t", "k:pre-key/1", s)); // another place
    auto ok = open(ring, "s", "k:pre-key/1", s);
    REQUIRE(ok);
    CHECK(*ok == value);
    auto fresh = sealed_or_fail(ring.active(), "s", "k:pre-key/2", value);
    CHECK(*open(ring, "s", "k:pre-key/2", fresh) == value);
  }
}

TEST_CASE("nonces never repeat, across pool refills and threads",
          "[crypto][seal][thread-state]") {
  auto ring = make_ring(key_line("k1", 'a'));
  constexpr int threads = 4;
  constexpr int per_thread = 300; // several draws of the nonce pool each
  std::vector<std::vector<std::string>> sealed(threads);
  std::vector<int> failures(threads, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto field = "k:pre-key/" + std::to_string(i);
        auto s = seal(ring.active(), "s", field, value);
        auto back = s ? open(ring, "s", field, *s) : s;
        if (!s || !back || *back != value)
          ++failures[t];
        else
          sealed[t].push_back(*s);
      }
    });
  for (auto& th : pool)
    th.join();
  std::set<std::string> nonces;
  for (int t = 0; t < threads; ++t) {
    CHECK(failures[t] == 0);
    for (const auto& s : sealed[t])
      nonces.insert(nonce_of(s));
  }
  CHECK(nonces.size() == size_t{threads * per_thread});
}

TEST_CASE("a forked child does not reuse the parent's pooled nonces",
          "[crypto][seal][thread-state]") {
  auto ring = make_ring(key_line("k1", 'a'));
  // Fills this thread's pool; the next nonce is in memory before the fork.
  sealed_or_fail(ring.active(), "s", "c:me", value);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto s = seal(ring.active(), "s", "c:me", value);
    std::string n = s ? nonce_of(*s) : std::string(nonce_bytes, '\0');
    ssize_t w = write(fds[1], n.data(), n.size());
    _exit(w == static_cast<ssize_t>(n.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string child(nonce_bytes, '\0');
  size_t got = 0;
  while (got < child.size()) {
    ssize_t r = read(fds[0], child.data() + got, child.size() - got);
    if (r <= 0)
      break;
    got += static_cast<size_t>(r);
  }
  close(fds[0]);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(got == nonce_bytes);
  auto parent = nonce_of(sealed_or_fail(ring.active(), "s", "c:me", value));
  CHECK(child != std::string(nonce_bytes, '\0'));
  CHECK(child != parent);
}

} // namespace sealed_value_test
