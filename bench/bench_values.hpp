// bench_values.hpp -- the values the C++ benchmarks write (latency_bench,
// cipher_bench, sealed_ab): one place, so their patches stay alike and a
// figure of one compares with the others'. Header-only, CAF-free.
#pragma once

#include <cstddef>
#include <string>

#include "messages/codec.hpp"

namespace authstore::bench {

/// A 32-byte Signal key as Baileys v7 stores it (the normalized Buffer
/// form), its bytes all `i`.
inline std::string buf32(size_t i) {
  std::string raw(32, static_cast<char>(i));
  return R"({"type":"Buffer","data":")" + base64_encode(raw) + "\"}";
}

} // namespace authstore::bench
