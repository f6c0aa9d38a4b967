// Tests of observe/latency_histogram.hpp: bucketing error bound, quantiles.
#include "observe/latency_histogram.hpp"

#include <random>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace latency_histogram_test {

using namespace authstore;

TEST_CASE("every value lands in a bucket whose upper edge is within 1/64",
          "[histogram]") {
  std::mt19937_64 rng{7};
  for (int i = 0; i < 200000; ++i) {
    uint64_t v = rng() >> (rng() % 64);
    auto b = latency_histogram::bucket_of(v);
    REQUIRE(b < latency_histogram::num_buckets);
    auto edge = latency_histogram::upper_edge(b);
    REQUIRE(edge >= v);
    REQUIRE(static_cast<double>(edge - v) <= static_cast<double>(v) / 64.0);
  }
  CHECK(latency_histogram::bucket_of(0) == 0);
  CHECK(latency_histogram::upper_edge(latency_histogram::bucket_of(63)) == 63);
}

TEST_CASE("quantiles of a known distribution", "[histogram]") {
  latency_histogram h;
  CHECK(h.quantile(0.5) == 0);
  for (uint64_t v = 1; v <= 10000; ++v)
    h.record(v * 1000);
  CHECK(h.count() == 10000);
  CHECK(h.max() == 10000000);
  auto p50 = static_cast<double>(h.quantile(0.5));
  auto p99 = static_cast<double>(h.quantile(0.99));
  CHECK(p50 >= 5000000.0);
  CHECK(p50 <= 5000000.0 * (1 + 1.0 / 64));
  CHECK(p99 >= 9900000.0);
  CHECK(p99 <= 9900000.0 * (1 + 1.0 / 64));
  CHECK(h.quantile(1.0) == 10000000);
}

TEST_CASE("a duration is recorded as its nanoseconds, a negative one as 0",
          "[histogram]") {
  using namespace std::chrono_literals;
  latency_histogram h;
  h.record(3ms);
  CHECK(h.count() == 1);
  CHECK(h.max() == 3000000);
  CHECK(h.sum() == 3000000);
  h.record(std::chrono::steady_clock::duration{250});
  CHECK(h.sum() == 3000250);
  h.record(-5us);
  CHECK(h.count() == 3);
  CHECK(h.sum() == 3000250);
  CHECK(h.count_at_most(0) == 1);
}

} // namespace latency_histogram_test
