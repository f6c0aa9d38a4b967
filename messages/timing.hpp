// timing.hpp -- the one margin by which a caller outwaits its callee.
//
// Every hop bounds its work (the session actor its Redis call, the cold
// supervisor its worker call, the remote session handle its forward). A
// caller that waits for a callee with a bound of its own waits the callee's
// bound plus reply_margin, so the callee's precise error (timeout,
// hot_unavailable, cold_unavailable) reaches the caller before the caller's
// own, less specific, timeout fires. CAF-free.
#pragma once

#include <chrono>

namespace authstore {

/// How much longer a caller waits than the callee's own bound (1 s: far
/// above a scheduler hop, far below any bound a person would notice).
constexpr std::chrono::milliseconds reply_margin{1000};

} // namespace authstore
