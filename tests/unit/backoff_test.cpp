// Tests of messages/backoff.hpp: the one capped doubling with jitter. Each
// retry loop's former arithmetic is written out below as a reference, and
// the helper must give the same waits over small domains exhaustively.
#include "messages/backoff.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace backoff_test {

using namespace authstore;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

namespace {

const std::vector<milliseconds> bases = {1ms, 7ms, 50ms, 100ms, 1000ms};
const std::vector<milliseconds> caps
  = {1ms, 3ms, 50ms, 2000ms, 30000ms, 60000ms, 3600000ms};
const std::vector<double> draws = {0.0, 0.25, 0.5, 0.75, 0.999999};

// The session actor's persist retry as it was written.
milliseconds session_reference(milliseconds base, milliseconds max, int n) {
  return std::min(base * (1 << std::min(n, 16)), max);
}

// The reconciler's per-session backoff as it was written (jitter = the
// value uniform_real_distribution{0.5, 1.5} derives from a canonical u).
milliseconds reconciler_reference(milliseconds base, milliseconds max, int n,
                                  double u) {
  auto wait = std::min(base * (int64_t{1} << std::min(n, 20)), max);
  double jitter = u * (1.5 - 0.5) + 0.5;
  return milliseconds{
    static_cast<int64_t>(static_cast<double>(wait.count()) * jitter)};
}

// The cold supervisor's restart waits as it was written: a stored "next
// wait", zero meaning base.
std::vector<milliseconds> cold_reference(milliseconds base, milliseconds max,
                                         int count) {
  std::vector<milliseconds> out;
  milliseconds backoff{0};
  for (int i = 0; i < count; ++i) {
    auto wait = backoff.count() > 0 ? backoff : base;
    wait = std::min(wait, max);
    backoff = std::min(wait * 2, max);
    out.push_back(wait);
  }
  return out;
}

// The Redis connection's (and the remote client's) reconnect waits as they
// were written: the first is the minimum, even above the cap.
std::vector<milliseconds>
reconnect_reference(milliseconds min, milliseconds max, int count, double u) {
  std::vector<milliseconds> out;
  milliseconds backoff{0};
  for (int i = 0; i < count; ++i) {
    backoff = backoff.count() == 0 ? min : std::min(backoff * 2, max);
    double jitter = u * (1.25 - 0.75) + 0.75;
    out.push_back(milliseconds{
      static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter)});
  }
  return out;
}

backoff_policy reconnect_policy(milliseconds min, milliseconds max) {
  return reconnect_backoff(min, max);
}

} // namespace

TEST_CASE("the session actor's persist retry: base doubling to the cap, "
          "at most 16 doublings, no jitter",
          "[backoff]") {
  for (auto base : bases)
    for (auto cap : caps) {
      backoff_policy p;
      p.base = base;
      p.cap = cap;
      p.max_doublings = 16;
      for (int n = 0; n < 40; ++n)
        CHECK(p.wait(static_cast<uint32_t>(n), 0.7)
              == session_reference(base, cap, n));
    }
}

TEST_CASE("the reconciler's backoff: at most 20 doublings, jitter in "
          "[0.5, 1.5)",
          "[backoff]") {
  for (auto base : bases)
    for (auto cap : caps) {
      backoff_policy p;
      p.base = base;
      p.cap = cap;
      p.max_doublings = 20;
      p.jitter_low = 0.5;
      p.jitter_high = 1.5;
      for (double u : draws)
        for (int n = 0; n < 40; ++n)
          CHECK(p.wait(static_cast<uint32_t>(n), u)
                == reconciler_reference(base, cap, n, u));
    }
}

TEST_CASE("the cold supervisor's restart backoff: the first wait is capped "
          "too",
          "[backoff]") {
  for (auto base : bases)
    for (auto cap : caps) {
      backoff b{backoff_policy{base, cap}};
      for (auto expected : cold_reference(base, cap, 40))
        CHECK(b.next() == expected);
    }
}

TEST_CASE("the reconnect backoff: the first wait is the minimum, even "
          "above the cap, and +-25 % jitter",
          "[backoff]") {
  for (auto base : bases)
    for (auto cap : caps)
      for (double u : draws) {
        backoff b{reconnect_policy(base, cap)};
        for (auto expected : reconnect_reference(base, cap, 40, u))
          CHECK(b.next(u) == expected);
      }
}

TEST_CASE("an uncapped policy doubles without overflowing", "[backoff]") {
  backoff_policy p;
  p.base = 50ms;
  for (uint32_t n = 0; n < 20; ++n)
    CHECK(p.nominal(n) == 50ms * (int64_t{1} << n));
  // Far beyond int64: saturates at the largest duration instead of wrapping.
  CHECK(p.nominal(100) == milliseconds::max());
  CHECK(p.nominal(std::numeric_limits<uint32_t>::max()) == milliseconds::max());
  p.jitter_low = 1.0;
  p.jitter_high = 2.0;
  CHECK(p.wait(100, 0.5) == milliseconds::max());
}

TEST_CASE("no wait exceeds the cap before jitter, and jitter stays in its "
          "range",
          "[backoff]") {
  backoff_policy p;
  p.base = 7ms;
  p.cap = 1000ms;
  p.jitter_low = 0.5;
  p.jitter_high = 1.5;
  for (uint32_t n = 0; n < 64; ++n) {
    auto nominal = p.nominal(n);
    CHECK(nominal <= p.cap);
    CHECK(nominal >= p.base);
    for (double u : draws) {
      auto w = p.wait(n, u);
      CHECK(w.count() >= static_cast<int64_t>(nominal.count() * 0.5));
      CHECK(w.count() < static_cast<int64_t>(nominal.count() * 1.5) + 1);
    }
  }
  CHECK(p.nominal(63) == 1000ms);
}

TEST_CASE("draws outside [0, 1) are clamped into the jitter range",
          "[backoff]") {
  backoff_policy p;
  p.base = 1000ms;
  p.jitter_low = 0.5;
  p.jitter_high = 1.5;
  CHECK(p.wait(0, -3.0) == 500ms);
  CHECK(p.wait(0, std::numeric_limits<double>::quiet_NaN()) == 500ms);
  auto highest = p.wait(0, std::nextafter(1.0, 0.0));
  CHECK(highest <= 1500ms);
  CHECK(highest > 1499ms - 1ms);
  CHECK(p.wait(0, 1.0) == highest);
  CHECK(p.wait(0, 7.0) == highest);
}

TEST_CASE("a policy without jitter ignores the draw", "[backoff]") {
  backoff_policy p;
  p.base = 100ms;
  p.cap = 10s;
  CHECK_FALSE(p.jittered());
  for (double u : draws)
    CHECK(p.wait(3, u) == 800ms);
}

TEST_CASE("reset starts the sequence over at the base", "[backoff]") {
  backoff b{backoff_policy{100ms, 1000ms}};
  CHECK(b.failures() == 0);
  CHECK(b.next() == 100ms);
  CHECK(b.next() == 200ms);
  CHECK(b.next() == 400ms);
  CHECK(b.failures() == 3);
  b.reset();
  CHECK(b.failures() == 0);
  CHECK(b.next() == 100ms);
}

TEST_CASE("next_from draws from the generator only when the policy "
          "jitters",
          "[backoff]") {
  std::mt19937_64 a{42};
  std::mt19937_64 untouched{42};
  backoff plain{backoff_policy{100ms, 1000ms}};
  CHECK(plain.next_from(a) == 100ms);
  CHECK(a() == untouched()); // no draw was taken
  backoff jittered{reconnect_policy(100ms, 1000ms)};
  std::vector<int64_t> seen;
  for (int i = 0; i < 50; ++i) {
    jittered.reset();
    auto w = jittered.next_from(a);
    CHECK(w >= 75ms);
    CHECK(w < 125ms);
    seen.push_back(w.count());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) - seen.begin() > 5);
}

TEST_CASE("capped_doubling matches the breaker's doubling loop in clock "
          "ticks",
          "[backoff]") {
  using ns = std::chrono::nanoseconds;
  for (auto base : {ns{1}, ns{1000000}, ns{5000000000}})
    for (auto cap : {ns{1}, ns{3000000}, ns{300000000000}})
      for (uint32_t n = 0; n < 70; ++n) {
        auto nominal = base;
        for (uint32_t i = 0; i < n && nominal < cap; ++i)
          nominal *= 2;
        nominal = std::min(nominal, cap);
        CHECK(capped_doubling(base, cap, n) == nominal);
      }
  CHECK(capped_doubling(ns{0}, ns{10}, 5) == ns{0});
}

} // namespace backoff_test
