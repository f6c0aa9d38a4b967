// fuzz_check.hpp -- the one assertion of the fuzz targets.
//
// Why not assert(): the fuzz build is RelWithDebInfo, so NDEBUG is set and
// assert() would check nothing. FUZZ_CHECK always checks; a failed property
// prints where and aborts, which libFuzzer reports as a crash and saves the
// input (under build-fuzz/fuzz/artifacts/<target>/). It never prints the
// input's bytes (libFuzzer saves them).
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (false)
