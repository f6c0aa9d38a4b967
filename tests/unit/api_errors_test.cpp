// Tests of runtime/http/api_errors.hpp: the errc -> HTTP status table,
// exhaustively over all_errcs(), against the contract (docs/HTTP-API.md,
// Errors); the error object's shape.
#include "runtime/http/api_errors.hpp"

#include <set>

#include <catch2/catch.hpp>

#include "redis/layout.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace api_errors_test {

using namespace authstore;

namespace {

/// The contract's table, written out once more on purpose: a change of
/// the implementation's table must be a change of this test too.
int contract_status(errc code) {
  switch (code) {
    case errc::invalid_session_id:
    case errc::invalid_argument:
    case errc::value_too_large:
    case errc::too_deep:
    case errc::too_many_fields:
    case errc::invalid_buffer:
      return 400;
    case errc::unauthorized:
      return 401;
    case errc::version_conflict:
    case errc::session_in_use:
    case errc::fenced:
      return 409;
    case errc::overloaded:
      return 429;
    case errc::hot_unavailable:
    case errc::hot_out_of_memory:
    case errc::cold_unavailable:
    case errc::cold_error:
    case errc::shutting_down:
    case errc::unreachable:
    case errc::not_owner:
      return 503;
    case errc::timeout:
      return 504;
    default:
      return 500;
  }
}

} // namespace

TEST_CASE("every errc has the contract's status, and none is 404",
          "[http][errors][invariant-4]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  REQUIRE(n >= 21);
  for (size_t i = 0; i < n; ++i) {
    auto code = codes[i];
    INFO(to_string(code));
    auto s = status_of(code);
    CHECK(s.status == contract_status(code));
    CHECK(s.status != 404); // invariant 4: a failure is never "not found"
    CHECK(s.retryable
          == (s.status == 429 || s.status == 503 || s.status == 504));
  }
}

TEST_CASE("may_have_applied is set only for writes whose outcome is "
          "unknown, and never on a 4xx",
          "[http][errors]") {
  size_t n = 0;
  const auto* codes = all_errcs(n);
  for (size_t i = 0; i < n; ++i) {
    auto code = codes[i];
    INFO(to_string(code));
    for (bool write : {false, true}) {
      auto e = from_failure(failure{code, "detail"}, write);
      bool unknown = code == errc::timeout || code == errc::hot_unavailable
                     || code == errc::hot_error;
      CHECK(e.may_have_applied == (write && unknown));
      if (e.status >= 400 && e.status < 500)
        CHECK_FALSE(e.may_have_applied);
      CHECK(e.token == to_string(code));
      CHECK(e.message == "detail");
    }
  }
}

TEST_CASE("a version conflict read from Redis carries current_version",
          "[http][errors]") {
  // The detail comes from the real reply reader: if its wording changes,
  // this test fails instead of current_version silently going missing.
  redis_reply r;
  r.kind = redis_reply::array;
  r.items = {"-1", "41"};
  r.item_nil = {false, false};
  auto read = redis_layout::parse_apply_patch(r);
  REQUIRE_FALSE(read);
  auto e = from_failure(read.error(), true);
  CHECK(e.status == 409);
  CHECK(e.extra["current_version"] == 41);
  CHECK_FALSE(e.may_have_applied);
  CHECK_FALSE(from_failure(failure{errc::version_conflict, "?"}, true)
                .extra.contains("current_version"));
}

TEST_CASE("a lease in use read from Redis carries holder_expires_in_ms; "
          "a fenced write is 409 fenced, not applied",
          "[http][errors][lease]") {
  redis_reply r;
  r.kind = redis_reply::array;
  r.items = {"-5", "1234"};
  r.item_nil = {false, false};
  auto read = redis_layout::parse_take_lease(r);
  REQUIRE_FALSE(read);
  auto e = from_failure(read.error(), true);
  CHECK(e.status == 409);
  CHECK(e.token == "session_in_use");
  CHECK(e.extra["holder_expires_in_ms"] == 1234);
  CHECK_FALSE(e.may_have_applied);
  redis_reply f;
  f.kind = redis_reply::array;
  f.items = {"-4"};
  f.item_nil = {false};
  auto w = redis_layout::parse_apply_patch(f);
  REQUIRE_FALSE(w);
  auto fe = from_failure(w.error(), true);
  CHECK(fe.status == 409);
  CHECK(fe.token == "fenced");
  CHECK_FALSE(fe.may_have_applied);
  CHECK(redis_layout::parse_delete_session(f).error().code == errc::fenced);
}

TEST_CASE("issue #19 - a write refused by node ownership is 503 not_owner, "
          "retryable and not applied: never the client lease's 409 fenced",
          "[http][errors][issue-19]") {
  redis_reply f;
  f.kind = redis_reply::array;
  f.items = {"-10"};
  f.item_nil = {false};
  auto w = redis_layout::parse_apply_patch(f);
  REQUIRE_FALSE(w);
  CHECK(w.error().code == errc::not_owner);
  auto e = from_failure(w.error(), true);
  CHECK(e.status == 503);
  CHECK(e.token == "not_owner");
  CHECK(e.retryable);
  CHECK_FALSE(e.may_have_applied);
  CHECK(redis_layout::parse_delete_session(f).error().code == errc::not_owner);
}

TEST_CASE("the error object has the contract's four members; 401 asks for "
          "a bearer token",
          "[http][errors]") {
  auto r = to_reply(from_failure(failure{errc::unauthorized, "no"}, false));
  CHECK(r.status == 401);
  CHECK(r.content_type == "application/json");
  auto j = json::parse(r.body);
  CHECK(j == json::parse(R"({"error":"unauthorized","message":"no",
                             "retryable":false,"may_have_applied":false})"));
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0].first == "WWW-Authenticate");
  CHECK(r.headers[0].second == "Bearer");
  auto t = to_reply(http_error(429, "overloaded", "busy"));
  CHECK(json::parse(t.body)["retryable"] == true);
  CHECK(to_reply(http_error(413, "body_too_large", "x")).headers.empty());
  // A detail that is not UTF-8 is replaced, not an exception.
  CHECK_NOTHROW(to_reply(http_error(400, "bad_json", "\xff\xfe")));
}

} // namespace api_errors_test
