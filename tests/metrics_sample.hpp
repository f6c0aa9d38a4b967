// metrics_sample.hpp -- reading one sample out of a Prometheus text scrape,
// for the tests that check /metrics (tests/redis, tests/e2e). Header-only.
#pragma once

#include <string>

namespace authstore::test {

/// The value of the sample line `name{labels}` (exact match of the part
/// before the value), or -1 when absent.
inline double sample(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    return -1;
  return std::stod(text.substr(pos + series.size() + 2));
}

} // namespace authstore::test
