// latency_histogram.hpp -- a fixed-size log-linear latency histogram that
// many threads record into without locks (relaxed atomics).
//
// Why not keep every sample: a long simulation records tens of millions of
// operations. Buckets are 64 per power of two of nanoseconds, so a reported
// percentile is within 1/64 (1.6 %) of the true sample; the maximum is exact.
// CAF-free.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace authstore {

class latency_histogram {
public:
  /// Records one latency in nanoseconds.
  void record(uint64_t ns);

  /// Records one duration (any std::chrono duration converts; a negative
  /// one counts as 0): the one place durations become samples.
  void record(std::chrono::nanoseconds d) {
    record(d.count() > 0 ? static_cast<uint64_t>(d.count()) : uint64_t{0});
  }

  /// The q-quantile (0 < q <= 1) in nanoseconds: the upper edge of the
  /// bucket holding it (0 when empty).
  uint64_t quantile(double q) const;

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  /// Sum of all recorded values (for Prometheus' _sum).
  uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  /// Samples at or below `ns` (bucket resolution), for cumulative buckets.
  uint64_t count_at_most(uint64_t ns) const;
  uint64_t max() const { return max_.load(std::memory_order_relaxed); }

  /// Bucket index of `ns` and the upper edge of bucket `i` (exposed for
  /// tests of the bucketing).
  static size_t bucket_of(uint64_t ns);
  static uint64_t upper_edge(size_t i);

  static constexpr size_t sub_buckets = 64;
  static constexpr size_t num_buckets = 64 * sub_buckets;

private:
  std::array<std::atomic<uint64_t>, num_buckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

} // namespace authstore
