// latency_histogram.cpp -- see latency_histogram.hpp.
//
// Bucketing: values below 64 ns have one bucket each. Above, a value with
// highest set bit b (b >= 6) falls into group b-5, sub-bucket given by the 6
// bits below the highest bit.
#include "observe/latency_histogram.hpp"

namespace authstore {

size_t latency_histogram::bucket_of(uint64_t ns) {
  if (ns < sub_buckets)
    return static_cast<size_t>(ns);
  int b = 63 - __builtin_clzll(ns);
  uint64_t sub = (ns >> (b - 6)) & (sub_buckets - 1);
  return static_cast<size_t>(b - 5) * sub_buckets + static_cast<size_t>(sub);
}

uint64_t latency_histogram::upper_edge(size_t i) {
  if (i < sub_buckets)
    return i;
  size_t group = i / sub_buckets; // b - 5
  uint64_t sub = i % sub_buckets;
  int b = static_cast<int>(group) + 5;
  uint64_t base = (uint64_t{1} << b) | (sub << (b - 6));
  return base + (uint64_t{1} << (b - 6)) - 1;
}

void latency_histogram::record(uint64_t ns) {
  buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(ns, std::memory_order_relaxed);
  auto cur = max_.load(std::memory_order_relaxed);
  while (ns > cur
         && !max_.compare_exchange_weak(cur, ns, std::memory_order_relaxed)) {
  }
}

uint64_t latency_histogram::quantile(double q) const {
  auto total = count();
  if (total == 0)
    return 0;
  auto rank = static_cast<uint64_t>(q * static_cast<double>(total));
  if (rank == 0)
    rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < num_buckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) {
      auto edge = upper_edge(i);
      return edge < max() ? edge : max();
    }
  }
  return max();
}

} // namespace authstore

namespace authstore {

uint64_t latency_histogram::count_at_most(uint64_t ns) const {
  uint64_t n = 0;
  for (size_t i = 0; i < num_buckets && upper_edge(i) <= ns; ++i)
    n += buckets_[i].load(std::memory_order_relaxed);
  return n;
}

} // namespace authstore
