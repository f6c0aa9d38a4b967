// backoff.cpp -- the waits of a backoff_policy (backoff.hpp).
#include "messages/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace authstore {

std::chrono::milliseconds backoff_policy::nominal(uint32_t failures) const {
  if (failures == 0 && first_uncapped)
    return base;
  return capped_doubling(base, cap, std::min(failures, max_doublings));
}

std::chrono::milliseconds backoff_policy::wait(uint32_t failures,
                                               double u) const {
  auto d = nominal(failures);
  if (!jittered())
    return d;
  // A draw outside [0, 1) (or NaN) from a foreign source must not stretch
  // the wait beyond the jitter range.
  if (!(u >= 0.0))
    u = 0.0;
  if (u >= 1.0)
    u = std::nextafter(1.0, 0.0);
  double factor = jitter_low + (jitter_high - jitter_low) * u;
  double ms = static_cast<double>(d.count()) * factor;
  // Only an uncapped policy gets near int64's range; it saturates.
  constexpr double longest = 9.2e18;
  if (ms >= longest)
    return std::chrono::milliseconds::max();
  return std::chrono::milliseconds{static_cast<int64_t>(ms)};
}

backoff_policy reconnect_backoff(std::chrono::milliseconds min,
                                 std::chrono::milliseconds max) {
  backoff_policy p;
  p.base = min;
  p.cap = max;
  p.jitter_low = 0.75;
  p.jitter_high = 1.25;
  p.first_uncapped = true;
  return p;
}

} // namespace authstore
