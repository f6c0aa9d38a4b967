// secret_compare.cpp -- see secret_compare.hpp.
#include "runtime/node/secret_compare.hpp"

#include <cstddef>

namespace authstore {

bool equal_in_constant_time(std::string_view given, std::string_view expected) {
  // Every byte of `expected` is visited once whatever `given` holds; a
  // length difference is folded into the same accumulator, never returned
  // early.
  size_t diff = given.size() ^ expected.size();
  for (size_t i = 0; i < expected.size(); ++i) {
    auto g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0u;
    diff |= g ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

} // namespace authstore
