// cold_gate.hpp -- what the cold supervisor's breaker refuses right now, for
// the actors that decide whether to start cold-bound work (issue #15).
//
// Why: a persist round reads a session's whole dirty set from Redis (the
// live path's read_dirty, the reconciler's claim_dirty) before it asks the
// supervisor, and during an outage the supervisor refuses at once: the read
// was wasted, grows with the backlog, and competes with hot writes on the
// one Redis (bench/results/2026-12-07/OUTAGE.md measured it). The breaker
// stays where it is (actors/cold_supervisor.cpp owns it and stays the only
// authority: it still refuses what it refuses); after every allow, record
// and state change it publishes here when calls are refused and how many
// probe calls it admits after that. Readers check before they read
// anything: one atomic load, no message, no wait.
//
// Guarantees: a hint, never a permit. A stale value costs at most one round
// the supervisor refuses anyway (the old behaviour) or one skipped round
// whose marks stay in Redis for the next write or the reconciler -- never
// a lost write (invariant 1: marks are cleared only after the cold store
// confirmed them). Lock-free; written by one actor, read by many. CAF-free.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace authstore {

/// The supervisor's breaker as seen by those about to start a persist.
class cold_gate {
public:
  using clock = std::chrono::steady_clock;

  /// probe_slots() of a closed (or disabled) breaker: no limit.
  static constexpr int32_t unlimited = -1;

  /// The supervisor: every call is refused before `refused_until`
  /// (clock::time_point::min(): none is); from then on the breaker admits
  /// `slots` calls (probes) or `unlimited`.
  void publish(clock::time_point refused_until, int32_t slots);

  /// Whether a call made at `now` would be refused.
  bool refuses(clock::time_point now) const;

  /// Calls a caller may start at `now`: 0 while refused, else the probe
  /// slots (unlimited when closed).
  int32_t admits(clock::time_point now) const;

private:
  std::atomic<clock::rep> until_{
    clock::time_point::min().time_since_epoch().count()};
  std::atomic<int32_t> slots_{unlimited};
};

} // namespace authstore
