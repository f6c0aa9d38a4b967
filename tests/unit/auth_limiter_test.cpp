// Tests of runtime/node/auth_limiter.hpp: per-source windows on a fake
// clock, the memory bound, and that one source's failures never lock out
// another.
#include "runtime/node/auth_limiter.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace auth_limiter_test {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

auth_limiter::config small(size_t max_failures, size_t max_sources = 100) {
  auth_limiter::config c;
  c.max_failures = max_failures;
  c.window = 60s;
  c.max_sources = max_sources;
  return c;
}

} // namespace

TEST_CASE("a source is refused after max_failures failures within the "
          "window, and allowed again when it ends",
          "[auth][rate-limit]") {
  auth_limiter uut{small(3)};
  auto t0 = auth_limiter::clock::time_point{} + 1000s;
  for (int i = 0; i < 3; ++i) {
    CHECK(uut.allowed("10.0.0.1", t0 + i * 1s));
    uut.failed("10.0.0.1", t0 + i * 1s);
  }
  CHECK_FALSE(uut.allowed("10.0.0.1", t0 + 3s));
  CHECK_FALSE(uut.allowed("10.0.0.1", t0 + 59s));
  CHECK(uut.allowed("10.0.0.2", t0 + 3s));  // another source is untouched
  CHECK(uut.allowed("10.0.0.1", t0 + 60s)); // the window ended
  CHECK(uut.tracked() == 0);
}

TEST_CASE("failures spread over windows never reach the limit",
          "[auth][rate-limit]") {
  auth_limiter uut{small(2)};
  auto t = auth_limiter::clock::time_point{} + 1000s;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(uut.allowed("a", t));
    uut.failed("a", t);
    t += 61s;
  }
}

TEST_CASE("a limiter that never saw a failure allows everyone",
          "[auth][rate-limit]") {
  auth_limiter uut{small(1)};
  CHECK(uut.allowed("anyone", auth_limiter::clock::now()));
  CHECK(uut.tracked() == 0);
}

TEST_CASE("at most max_sources are tracked: expired first, then the oldest",
          "[auth][rate-limit]") {
  auth_limiter uut{small(1, 3)};
  auto t0 = auth_limiter::clock::time_point{} + 1000s;
  uut.failed("a", t0);
  uut.failed("b", t0 + 1s);
  uut.failed("c", t0 + 2s);
  CHECK(uut.tracked() == 3);
  uut.failed("d", t0 + 3s); // full, none expired: "a" (oldest) goes
  CHECK(uut.tracked() == 3);
  CHECK(uut.allowed("a", t0 + 3s));
  CHECK_FALSE(uut.allowed("b", t0 + 3s));
  CHECK_FALSE(uut.allowed("d", t0 + 3s));
  uut.failed("e", t0 + 62s); // b, c expired: both go
  CHECK(uut.tracked() == 2);
  CHECK_FALSE(uut.allowed("e", t0 + 62s));
}

} // namespace auth_limiter_test
