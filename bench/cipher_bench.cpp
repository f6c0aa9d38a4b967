// cipher_bench.cpp -- the cost of the value cipher alone (issue #17): seal
// a 10-value patch, seal a one-field creds patch, open one key value, with
// no Redis, no actors and no scheduler.
//
// Why: latency_bench measures the whole round trip, whose wall-clock p50 on
// a shared 2-core machine moves by more than the cipher costs. This driver
// isolates the cipher so that its cost can be counted in instructions
// (`valgrind --tool=callgrind bench/cipher_bench --n 2000`, load-independent)
// and in nanoseconds (plain run). The values are the ones latency_bench
// writes (a Buffer of 32 bytes as normalized JSON text, ~70 bytes; a
// counter for the creds field), so per-op figures compare with its phases.
//
// Cold caches (--evict-kb K): before each op the driver writes one byte in
// every 64-byte line of a K KiB buffer (untimed), so the op starts with the
// cipher's code and data evicted from the caches -- as in the engine on a
// shared machine, where a read's other work and other processes run between
// two opens -- and each op is timed alone; ns_per_op is then the median.
//
// Usage: cipher_bench [--n N] [--phase seal10|seal1|open|all]
//        [--evict-kb K]; prints one JSON object {phase: {"ns_per_op": x,
//        "ops": n}} on stdout. CAF-free.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "bench/bench_values.hpp"
#include "crypto/key_ring.hpp"
#include "crypto/value_cipher.hpp"
#include "messages/codec.hpp"

using namespace authstore;

namespace {

using clock_type = std::chrono::steady_clock;

using bench::buf32;

/// A fixed test key ring (the bench needs no secret; the bytes are public).
crypto::key_ring bench_ring() {
  std::string line = "bench " + base64_encode(std::string(32, '\x5a')) + "\n";
  auto ring = crypto::key_ring::parse(line, "cipher_bench");
  if (!ring) {
    std::cerr << "cipher_bench: " << ring.error().detail << '\n';
    std::exit(1);
  }
  return std::move(*ring);
}

/// --evict-kb: the buffer written before each op (empty: warm caches).
std::vector<unsigned char> evict_buffer;

/// Runs `op` n times; nanoseconds per op (warm: the mean; with an evict
/// buffer: the median of ops timed one by one, each after the eviction).
template <class Op>
double time_ops(size_t n, Op op) {
  if (!evict_buffer.empty()) {
    std::vector<double> each(n);
    for (size_t i = 0; i < n; ++i) {
      for (size_t b = 0; b < evict_buffer.size(); b += 64)
        evict_buffer[b] = static_cast<unsigned char>(evict_buffer[b] + i);
      auto t0 = clock_type::now();
      op(i);
      each[i] = std::chrono::duration<double, std::nano>(clock_type::now() - t0)
                  .count();
    }
    std::nth_element(each.begin(), each.begin() + n / 2, each.end());
    return each[n / 2];
  }
  auto t0 = clock_type::now();
  for (size_t i = 0; i < n; ++i)
    op(i);
  auto ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0);
  return ns.count() / static_cast<double>(n);
}

} // namespace

int main(int argc, char** argv) {
  size_t n = 100000;
  std::string which = "all";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--n")
      n = std::stoul(argv[i + 1]);
    else if (k == "--phase")
      which = argv[i + 1];
    else if (k == "--evict-kb")
      evict_buffer.assign(std::stoul(argv[i + 1]) * 1024, 0);
    else {
      std::cerr << "usage: cipher_bench [--n N] [--phase seal10|seal1|open] "
                   "[--evict-kb K]\n";
      return 2;
    }
  }
  crypto::value_cipher cipher{bench_ring()};
  const std::string sid = "bench-prekeys";
  size_t bytes = 0; // keeps every result used
  std::string out = "{";
  auto report = [&](const char* name, double ns) {
    if (out.size() > 1)
      out += ',';
    char line[128];
    std::snprintf(line, sizeof line, "\"%s\":{\"ns_per_op\":%.1f,\"ops\":%zu}",
                  name, ns, n);
    out += line;
  };
  if (which == "all" || which == "seal10") {
    report("seal_patch_10", time_ops(n, [&](size_t i) {
             patch p;
             for (size_t k = 0; k < 10; ++k)
               p.set_key("pre-key", std::to_string(i * 10 + k), buf32(k));
             auto s = cipher.seal_patch(sid, p);
             bytes += s ? s->writes.size() : 0;
           }));
  }
  if (which == "all" || which == "seal1") {
    report("seal_patch_creds_1", time_ops(n, [&](size_t i) {
             patch p;
             p.set_creds("accountSyncCounter", std::to_string(i));
             auto s = cipher.seal_patch("bench-creds", p);
             bytes += s ? s->writes.size() : 0;
           }));
  }
  if (which == "all" || which == "open") {
    std::vector<std::string> stored;
    for (size_t k = 0; k < 100; ++k) {
      patch p;
      p.set_key("pre-key", std::to_string(k), buf32(k));
      stored.push_back(cipher.seal_patch(sid, p)->writes.front().value);
    }
    report("open_key_1", time_ops(n, [&](size_t i) {
             auto field = "k:pre-key/" + std::to_string(i % 100);
             auto v = cipher.open(sid, field, stored[i % 100]);
             bytes += v ? v->size() : 0;
           }));
  }
  out += "}";
  std::cout << out << '\n';
  return bytes == 0 ? 1 : 0;
}
