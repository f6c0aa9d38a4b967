// backoff.hpp -- capped doubling with jitter: how every retry loop waits.
//
// Why one helper: the session actor (persist retry), the outbox reconciler
// (per-session backoff), the cold supervisor (worker restart), the Redis
// connection and the remote client (reconnect) and the Mongo store (step
// retry) all wait "base, doubled per failure in a row, up to a cap, maybe
// jittered". Their differences are parameters here, not copies:
//
//   loop                  base / cap                 doublings  jitter
//   session persist       persist_retry_base / _max  16         none
//   reconciler            outbox.backoff-base / -max 20         x [0.5, 1.5)
//   cold worker restart   restart_backoff_base/_max  any        none
//   Redis reconnect       reconnect_min / _max       any        x [0.75, 1.25)
//   remote reconnect      backoff_min / _max         any        x [0.75, 1.25)
//   Mongo step retry      retry_backoff / none       any        none
//
// The Redis and remote reconnects start at their minimum even when it is
// above the cap (first_uncapped); every other loop caps the first wait too.
// The n-th wait (n = failures before it, from 0) is
//
//   nominal(n) = min(base * 2^min(n, max_doublings), cap)   (n = 0 and
//                first_uncapped: base)
//   wait(n)    = trunc(nominal(n) * f),  f = low + (high - low) * u
//
// with u uniform in [0, 1) supplied by the caller, so tests choose it and
// production passes a generator. Nothing overflows: the doubling saturates
// at the cap. CAF-free, clock-free: callers add the wait to their own clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace authstore {

/// min(base * 2^doublings, cap), computed without overflow: the doubling
/// stops at the cap. The doubling of every backoff and of the circuit
/// breaker's open period (which works in clock ticks, hence the template).
template <class Rep, class Period>
constexpr std::chrono::duration<Rep, Period>
capped_doubling(std::chrono::duration<Rep, Period> base,
                std::chrono::duration<Rep, Period> cap, uint32_t doublings) {
  if (base <= base.zero() || base >= cap)
    return base < cap ? base : cap;
  auto d = base;
  for (uint32_t i = 0; i < doublings && d < cap; ++i)
    d = d > cap / 2 ? cap : d * 2;
  return d;
}

/// How one retry loop's waits grow (see the file comment for the formula).
struct backoff_policy {
  /// The first wait.
  std::chrono::milliseconds base{100};
  /// No wait is longer (before jitter); max() = no cap.
  std::chrono::milliseconds cap = std::chrono::milliseconds::max();
  /// Doublings after which the wait stops growing even below the cap.
  uint32_t max_doublings = 63;
  /// The wait is multiplied by a factor uniform in [jitter_low,
  /// jitter_high); 1 and 1 = no jitter.
  double jitter_low = 1.0;
  double jitter_high = 1.0;
  /// The first wait is `base` even when base > cap.
  bool first_uncapped = false;

  /// The wait before retry number `failures` + 1, before jitter.
  std::chrono::milliseconds nominal(uint32_t failures) const;

  /// The jittered wait for `failures`, with `u` uniform in [0, 1) (values
  /// outside are clamped into it).
  std::chrono::milliseconds wait(uint32_t failures, double u) const;

  /// As wait(failures, u), drawing u from `g` only when the policy
  /// jitters (a policy without jitter leaves the generator untouched).
  template <class Generator>
  std::chrono::milliseconds wait_from(uint32_t failures, Generator& g) const {
    if (!jittered())
      return wait(failures, 0.0);
    return wait(failures, std::uniform_real_distribution<double>{0.0, 1.0}(g));
  }

  /// Whether waits are jittered at all.
  bool jittered() const { return jitter_low != 1.0 || jitter_high != 1.0; }
};

/// The reconnect policy of the Redis connection and the remote client:
/// `min` doubling to `max` with +-25 % jitter (so many nodes do not
/// reconnect in lockstep after a restart), starting at `min` even above
/// `max`.
backoff_policy reconnect_backoff(std::chrono::milliseconds min,
                                 std::chrono::milliseconds max);

/// A policy and the failures in a row it has seen: `next()` after each
/// failure, `reset()` after a success. (An actor with many such counters,
/// one per session, keeps the policy once and a count per session, calling
/// policy.wait(count++, u) instead.)
class backoff {
public:
  backoff() = default;
  explicit backoff(backoff_policy policy) : policy_(policy) {}

  /// The wait after one more failure, with `u` uniform in [0, 1).
  std::chrono::milliseconds next(double u = 0.0) {
    return policy_.wait(failures_++, u);
  }

  /// As next(u), drawing u from `g` when the policy jitters.
  template <class Generator>
  std::chrono::milliseconds next_from(Generator& g) {
    return policy_.wait_from(failures_++, g);
  }

  /// A success: the next failure waits `base` again.
  void reset() { failures_ = 0; }

  /// Failures in a row since the last reset.
  uint32_t failures() const { return failures_; }

  const backoff_policy& policy() const { return policy_; }

private:
  backoff_policy policy_;
  uint32_t failures_ = 0;
};

} // namespace authstore
