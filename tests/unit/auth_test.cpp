// Tests of runtime/remote/auth.hpp: SHA-256 against FIPS 180-4 examples, HMAC
// against RFC 4231, the handshake proofs, and where a secret may come from.
#include "runtime/remote/auth.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace auth_test {

using namespace authstore;

namespace {

std::string unhex(std::string_view hex) {
  std::string result;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    result += static_cast<char>(
      std::stoi(std::string{hex.substr(i, 2)}, nullptr, 16));
  return result;
}

/// Writes `text` to a fresh file and returns its path.
std::string write_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/authstore-auth-test-" + name;
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
  return path;
}

/// Sets or clears AUTHSTORE_SECRET for one scope.
struct secret_env {
  explicit secret_env(const char* value) {
    if (value)
      ::setenv(secret_env_var, value, 1);
    else
      ::unsetenv(secret_env_var);
  }
  ~secret_env() { ::unsetenv(secret_env_var); }
};

} // namespace

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[auth]") {
  CHECK(to_hex(sha256(""))
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(to_hex(sha256("abc"))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(
    to_hex(sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
    == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(to_hex(sha256(std::string(1000000, 'a')))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 pads correctly at every length around a block boundary",
          "[auth]") {
  // 55, 56 and 64 bytes are the edges of the padding rule: the length field
  // fits in the last block, spills into a new one, or follows a full block.
  CHECK(to_hex(sha256(std::string(55, 'a')))
        == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(to_hex(sha256(std::string(56, 'a')))
        == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(to_hex(sha256(std::string(64, 'a')))
        == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("hmac_sha256 matches RFC 4231", "[auth]") {
  // Test case 1: 20-byte key.
  CHECK(to_hex(hmac_sha256(std::string(20, '\x0b'), "Hi There"))
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: key shorter than the block.
  CHECK(to_hex(hmac_sha256("Jefe", "what do ya want for nothing?"))
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 3: 0xaa key, 0xdd data.
  CHECK(to_hex(hmac_sha256(std::string(20, '\xaa'), std::string(50, '\xdd')))
        == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test case 4.
  CHECK(to_hex(hmac_sha256(unhex("0102030405060708090a0b0c0d0e0f10111213141516"
                                 "171819"),
                           std::string(50, '\xcd')))
        == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  // Test case 6: a key longer than the block is hashed first.
  CHECK(to_hex(hmac_sha256(std::string(131, '\xaa'),
                           "Test Using Larger Than Block-Size Key - Hash Key "
                           "First"))
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7.
  CHECK(to_hex(hmac_sha256(
          std::string(131, '\xaa'),
          "This is a test using a larger than block-size key and a larger "
          "than block-size data. The key needs to be hashed before being "
          "used by the HMAC algorithm."))
        == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("nonces are 64 hex characters and do not repeat", "[auth]") {
  auto a = make_nonce();
  auto b = make_nonce();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(is_nonce(*a));
  CHECK(is_nonce(*b));
  CHECK(*a != *b);
  CHECK_FALSE(is_nonce(""));
  CHECK_FALSE(is_nonce(std::string(63, 'a')));
  CHECK_FALSE(is_nonce(std::string(64, 'A')));
  CHECK_FALSE(is_nonce(std::string(63, 'a') + "\n"));
}

TEST_CASE("a proof depends on the secret, the version, both nonces and the "
          "role",
          "[auth]") {
  std::string secret = "0123456789abcdef-shared";
  std::string cn(64, 'c');
  std::string sn(64, 'd');
  auto sp = server_proof(secret, 1, cn, sn);
  auto cp = client_proof(secret, 1, sn, cn);
  CHECK(sp.size() == 64);
  CHECK(sp == server_proof(secret, 1, cn, sn));
  // The server's answer is never a valid client answer (no reflection).
  CHECK(sp != cp);
  CHECK(sp != server_proof(secret + "x", 1, cn, sn));
  CHECK(sp != server_proof(secret, 2, cn, sn));
  CHECK(sp != server_proof(secret, 1, std::string(64, 'e'), sn));
  CHECK(sp != server_proof(secret, 1, cn, std::string(64, 'e')));
  CHECK(cp != client_proof("", 1, sn, cn));
}

TEST_CASE("proofs compare equal only when identical", "[auth]") {
  CHECK(proofs_equal("abc", "abc"));
  CHECK_FALSE(proofs_equal("abc", "abd"));
  CHECK_FALSE(proofs_equal("abc", "ab"));
  CHECK(proofs_equal("", ""));
}

TEST_CASE("the secret file beats the environment; neither means no secret",
          "[auth]") {
  secret_env env{"environment-secret-1234"};
  auto path = write_file("a", "file-secret-0123456789\n");
  auto from_file = load_secret(path);
  REQUIRE(from_file);
  CHECK(*from_file == "file-secret-0123456789");
  auto from_env = load_secret("");
  REQUIRE(from_env);
  CHECK(*from_env == "environment-secret-1234");
  ::unsetenv(secret_env_var);
  auto none = load_secret("");
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("short, empty or unreadable secrets are refused without showing "
          "them",
          "[auth]") {
  secret_env env{nullptr};
  auto short_file = write_file("short", "tooshort\n");
  auto s = load_secret(short_file);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == errc::invalid_config);
  CHECK(s.error().detail.find("too short") != std::string::npos);
  CHECK(s.error().detail.find("tooshort") == std::string::npos);
  auto empty = load_secret(write_file("empty", "\n\n"));
  REQUIRE_FALSE(empty);
  CHECK(empty.error().detail.find("empty") != std::string::npos);
  auto missing = load_secret("/tmp/authstore-auth-test-no-such-file");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == errc::invalid_config);
  ::setenv(secret_env_var, "short-env", 1);
  auto short_env = load_secret("");
  REQUIRE_FALSE(short_env);
  CHECK(short_env.error().detail.find(secret_env_var) != std::string::npos);
  CHECK(short_env.error().detail.find("short-env") == std::string::npos);
}

TEST_CASE("parse_secret drops trailing blanks only: a trailing NUL is kept",
          "[auth]") {
  auto s = parse_secret(" lead-0123456789abcdef \t\r\n", "the test");
  REQUIRE(s);
  CHECK(*s == " lead-0123456789abcdef");
  // strchr(" \t\r\n", '\0') finds the terminator: the old trim took a
  // trailing NUL for a blank (seen while writing fuzz/remote_auth_fuzz.cpp).
  std::string with_nul{"0123456789abcdef\0", 17};
  auto n = parse_secret(with_nul, "the test");
  REQUIRE(n);
  CHECK(*n == with_nul);
  auto blank = parse_secret(" \t\r\n", "the test");
  REQUIRE_FALSE(blank);
  CHECK(blank.error().detail.find("the test is empty") != std::string::npos);
}

TEST_CASE("a secret file may hold two lines during a rotation: the current "
          "secret, then the previous one",
          "[auth][rotation]") {
  secret_env env{nullptr};
  auto two = load_secrets(
    write_file("two", "new-secret-0123456789\r\nold-secret-0123456789\n"));
  REQUIRE(two);
  CHECK(two->current == "new-secret-0123456789");
  CHECK(two->previous == "old-secret-0123456789");
  auto one = load_secrets(write_file("one", "only-secret-0123456789\n"));
  REQUIRE(one);
  CHECK(one->previous.empty());
  // A client presents the first line.
  auto client = load_secret(
    write_file("two-again", "new-secret-0123456789\nold-secret-0123456789"));
  REQUIRE(client);
  CHECK(*client == "new-secret-0123456789");
  auto three = load_secrets(write_file(
    "three", "a-secret-0123456789\nb-secret-0123456789\nc-secret-0123456789"));
  REQUIRE_FALSE(three);
  CHECK(three.error().code == errc::invalid_config);
  CHECK_THAT(three.error().detail, Catch::Contains("more than two lines"));
  auto short_second
    = load_secrets(write_file("short2", "a-secret-0123456789\nshort\n"));
  REQUIRE_FALSE(short_second);
  CHECK_THAT(short_second.error().detail, Catch::Contains("line 2"));
  CHECK_THAT(short_second.error().detail, !Catch::Contains("short\n"));
  CHECK_THAT(short_second.error().detail, !Catch::Contains("a-secret"));
}

TEST_CASE("a server with two secrets proves both, and a client with either "
          "accepts the answer",
          "[auth][rotation]") {
  shared_secrets both{"new-secret-0123456789", "old-secret-0123456789"};
  std::string cn(64, 'a'), sn(64, 'b');
  auto answer = server_proofs(both, 1, cn, sn);
  CHECK(server_proved(answer, server_proof(both.current, 1, cn, sn)));
  CHECK(server_proved(answer, server_proof(both.previous, 1, cn, sn)));
  CHECK_FALSE(
    server_proved(answer, server_proof("other-secret-0123456789", 1, cn, sn)));
  shared_secrets one{"new-secret-0123456789", ""};
  auto single = server_proofs(one, 1, cn, sn);
  CHECK(single == server_proof(one.current, 1, cn, sn));
  CHECK(server_proved(single, server_proof(one.current, 1, cn, sn)));
  CHECK_FALSE(server_proved(single, server_proof(both.previous, 1, cn, sn)));
  CHECK_FALSE(server_proved("", server_proof(one.current, 1, cn, sn)));
}

} // namespace auth_test
