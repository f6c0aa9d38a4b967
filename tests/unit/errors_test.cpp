// Tests of messages/errors.hpp: every error has one stable, distinct token.
#include "messages/errors.hpp"

#include <set>

#include <catch2/catch.hpp>

using namespace authstore;

TEST_CASE("every errc value has a distinct token that parses back",
          "[errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  REQUIRE(n == 21);
  std::set<std::string_view> tokens;
  for (size_t i = 0; i < n; ++i) {
    auto token = to_string(codes[i]);
    CHECK(token != "unknown_error");
    CHECK(tokens.insert(token).second);
    errc back{};
    REQUIRE(from_string(token, back));
    CHECK(back == codes[i]);
  }
}

TEST_CASE("pinned errc values never change", "[errors]") {
  // These numbers cross the middleman: changing one breaks old clients.
  CHECK(static_cast<int>(errc::invalid_session_id) == 1);
  CHECK(static_cast<int>(errc::version_conflict) == 10);
  CHECK(static_cast<int>(errc::hot_unavailable) == 20);
  CHECK(static_cast<int>(errc::cold_unavailable) == 30);
  CHECK(static_cast<int>(errc::timeout) == 40);
  CHECK(static_cast<int>(errc::invalid_config) == 70);
}

TEST_CASE("there is no not-found error code", "[errors][invariant-4]") {
  errc x{};
  CHECK_FALSE(from_string("not_found", x));
  CHECK_FALSE(from_string("notfound", x));
}

TEST_CASE("a failure renders as token: detail", "[errors]") {
  CHECK(failure{errc::timeout, "after 3 s"}.render() == "timeout: after 3 s");
  CHECK(failure{errc::hot_unavailable, ""}.render() == "hot_unavailable");
  errc x{};
  CHECK_FALSE(from_string("no_such_token", x));
}
