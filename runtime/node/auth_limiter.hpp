// auth_limiter.hpp -- failed authentication attempts, rate-limited per
// source address (issue #17, "Access"). Both front doors use one limiter
// each: the remote gate (runtime/remote/server.cpp) and the HTTP API
// (runtime/http/api_service.cpp).
//
// Why: the shared secret is the only thing between the network and every
// session; without a limit a peer may guess as fast as the port answers.
// Design: a fixed window per source. A source that failed max_failures
// times within `window` of its first failure is refused unchecked (the
// caller does not even compare the secret) until that window ends; a
// success does not reset the count (a valid secret gives nothing to try
// again for). At most max_sources are tracked: when full, expired windows
// go first, then the oldest one -- so a flood of addresses costs memory
// bounded by max_sources, and the worst it does is forget an attacker
// early.
//
// Thread safety: one mutex (the HTTP server calls it from its I/O thread,
// the gate from its own); the fast path of a limiter that never saw a
// failure takes no lock. CAF-free, with an injected clock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace authstore {

/// Rate limit of failed authentication per source address.
class auth_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// Settings (auth.max-failures, auth.failure-window-s).
  struct config {
    /// Failures a source may make per window before it is refused.
    size_t max_failures = 10;
    /// The window, from a source's first failure in it.
    std::chrono::seconds window{60};
    /// Most sources tracked at once (memory bound).
    size_t max_sources = 65536;
  };

  explicit auth_limiter(config cfg) : cfg_(cfg) {}

  /// Whether `source` may attempt to authenticate at `now` (false: refuse
  /// it unchecked).
  bool allowed(std::string_view source, clock::time_point now);

  /// Records a failed attempt of `source` at `now`.
  void failed(std::string_view source, clock::time_point now);

  /// Sources tracked now (for tests).
  size_t tracked() const;

private:
  struct window {
    clock::time_point start;
    size_t failures = 0;
  };

  void make_room(clock::time_point now);

  config cfg_;
  mutable std::mutex mtx_;
  std::unordered_map<std::string, window> sources_;
  std::atomic<size_t> size_{0};
};

} // namespace authstore
