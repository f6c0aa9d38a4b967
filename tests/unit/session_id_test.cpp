// Tests of messages/session_id.hpp: the allow-list, exhaustively over bytes.
#include "messages/session_id.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace session_id_test {

using namespace authstore;

TEST_CASE("every byte value is allowed exactly when it is in the allow-list",
          "[session-id]") {
  const std::string allowed = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRST"
                              "UVWXYZ0123456789._@:-";
  for (int b = 0; b < 256; ++b) {
    auto c = static_cast<char>(b);
    bool expected = allowed.find(c) != std::string::npos;
    std::string sid = "ab";
    sid += c;
    INFO("byte " << b);
    CHECK(static_cast<bool>(validate_session_id(sid)) == expected);
  }
}

TEST_CASE("session ids are 1 to 128 bytes", "[session-id]") {
  CHECK_FALSE(validate_session_id(""));
  CHECK(validate_session_id("a"));
  CHECK(validate_session_id(std::string(128, 'a')));
  auto too_long = validate_session_id(std::string(129, 'a'));
  REQUIRE_FALSE(too_long);
  CHECK(too_long.error().code == errc::invalid_session_id);
}

TEST_CASE("hash-tag braces, whitespace, NUL and non-ASCII are rejected",
          "[session-id]") {
  for (std::string bad :
       {std::string{"{sid}"}, std::string{"a}b"}, std::string{"a{b"},
        std::string{"a b"}, std::string{"a\tb"}, std::string{"a\nb"},
        std::string("a\0b", 3), std::string{"caf\xc3\xa9"},
        std::string{"a/b"}}) {
    auto r = validate_session_id(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_session_id);
  }
}

TEST_CASE("typical WhatsApp session ids are accepted", "[session-id]") {
  for (std::string ok : {"5511999999999", "5511999999999@s.whatsapp.net",
                         "tenant-7:bot_12", "a.b-c_d@e:f"})
    CHECK(validate_session_id(ok));
}

} // namespace session_id_test
