// Tests of messages/errors.hpp: every error has one stable, distinct token.
#include "messages/errors.hpp"

#include <set>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace errors_test {

using namespace authstore;

TEST_CASE("every errc value has a distinct token that parses back",
          "[errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  REQUIRE(n == 25); // 21 + session_in_use, fenced (#14) + decrypt_failed
                    // (#17) + not_owner (#19)
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
  CHECK(static_cast<int>(errc::session_in_use) == 11);
  CHECK(static_cast<int>(errc::fenced) == 12);
  CHECK(static_cast<int>(errc::hot_unavailable) == 20);
  CHECK(static_cast<int>(errc::cold_unavailable) == 30);
  CHECK(static_cast<int>(errc::timeout) == 40);
  CHECK(static_cast<int>(errc::unreachable) == 43);
  CHECK(static_cast<int>(errc::not_owner) == 44);
  CHECK(static_cast<int>(errc::invalid_config) == 70);
  CHECK(static_cast<int>(errc::decrypt_failed) == 80);
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

namespace {

/// What each code means for a caller: the request was refused for its own
/// sake, the data is malformed, the operation may have been applied. One
/// row per errc value; a value added to errc without a row fails below.
struct meaning {
  errc code;
  bool request_error;
  bool malformed;
  bool may_have_been_applied;
};

constexpr meaning meanings[] = {
  {errc::invalid_session_id, true, true, false},
  {errc::invalid_argument, true, true, false},
  {errc::value_too_large, true, false, false},
  {errc::too_deep, true, false, false},
  {errc::too_many_fields, true, false, false},
  {errc::invalid_buffer, true, true, false},
  {errc::version_conflict, true, false, false},
  {errc::session_in_use, true, false, false},
  {errc::fenced, true, false, false},
  {errc::hot_unavailable, false, false, true},
  {errc::hot_out_of_memory, false, false, false},
  {errc::hot_error, false, false, true},
  {errc::cold_unavailable, false, false, true},
  {errc::cold_error, false, false, true},
  {errc::no_cold_store, false, false, false},
  {errc::timeout, false, false, true},
  {errc::overloaded, false, false, false},
  {errc::shutting_down, false, false, false},
  {errc::unreachable, false, false, false},
  {errc::not_owner, false, false, false},
  {errc::protocol_mismatch, false, false, false},
  {errc::unauthorized, false, false, false},
  {errc::internal, false, false, true},
  {errc::invalid_config, false, false, false},
  {errc::decrypt_failed, false, false, false},
};

const meaning* meaning_of(errc x) {
  for (const auto& m : meanings)
    if (m.code == x)
      return &m;
  return nullptr;
}

} // namespace

TEST_CASE("each errc value says whether the request was bad, the data "
          "malformed, or the outcome unknown",
          "[errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  for (size_t i = 0; i < n; ++i) {
    CAPTURE(to_string(codes[i]));
    const auto* m = meaning_of(codes[i]);
    REQUIRE(m != nullptr);
    CHECK(is_request_error(codes[i]) == m->request_error);
    CHECK(is_malformed(codes[i]) == m->malformed);
    CHECK(may_have_been_applied(codes[i]) == m->may_have_been_applied);
  }
}

TEST_CASE("malformed data is a bad request, and a bad request was never "
          "applied",
          "[errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  for (size_t i = 0; i < n; ++i) {
    CAPTURE(to_string(codes[i]));
    if (is_malformed(codes[i]))
      CHECK(is_request_error(codes[i]));
    if (is_request_error(codes[i]))
      CHECK_FALSE(may_have_been_applied(codes[i]));
  }
}

TEST_CASE("every errc value has its own counter slot; unknown values share "
          "the last one",
          "[errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  std::set<size_t> slots;
  for (size_t i = 0; i < n; ++i) {
    CAPTURE(to_string(codes[i]));
    CHECK(codes[i] <= errc_last);
    auto slot = errc_slot(codes[i]);
    CHECK(slot < errc_slots - 1);
    CHECK(slot == static_cast<size_t>(codes[i]));
    CHECK(slots.insert(slot).second);
  }
  // A newer peer's code, and the largest the wire can carry.
  CHECK(errc_slot(static_cast<errc>(static_cast<int>(errc_last) + 1))
        == errc_slots - 1);
  CHECK(errc_slot(static_cast<errc>(255)) == errc_slots - 1);
}

} // namespace errors_test
