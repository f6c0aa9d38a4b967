// circuit_breaker.hpp -- when to stop calling the cold store, and when to try
// again.
//
// Why: a dead MongoDB must not make callers wait (invariant 5). The
// cold_supervisor asks allow(now) before each call; while the circuit is open
// it answers cold_unavailable at once, and the outbox reconciler persists the
// dirty sessions later. This is a pure class: no CAF, no clock, no threads.
// Time is passed in as `now` on every call (so tests need no sleeps) and jitter
// comes from an injected uniform source. The owner (one actor) serializes all
// calls; the class is not thread-safe. The header runs past the usual 150
// lines because the diagram and the contract belong beside the class.
//
//              failure rate >= F% or slow-call rate >= S% (with at least
//              min_calls in the window), or N failures in a row
//      +--------+ ---------------------------------------> +------+
//  +-> | closed |                                          | open | <---+
//  |   +--------+            +--- open period elapsed, --- +------+     |
//  |       |                 |    or worker restarted                   |
//  |       | worker          v                                          |
//  |       | restarted  +-----------+   a probe failed, timed out or    |
//  |       +----------> | half_open | ----------------------------------+
//  |                    +-----------+   was slow: the period doubles
//  |                          |         (jittered, capped at open_max)
//  +---- all probes succeeded-+
//        (a round admits half_open_probes calls and rejects the rest;
//        a restart while half-open starts a new round)
//
//   Operator overrides, from any state:  force_open() -> forced_open (rejects
//   every call); disable() -> disabled (allows every call, tracks nothing,
//   never trips); reset_to_auto() -> closed (from an override only).
//   Gauge numbering is the enum value: 0 closed, 1 half_open, 2 open,
//   3 forced_open, 4 disabled.
//
// Guarantees and contract:
// - Outcomes: the caller reports success, failure or timeout plus the call's
//   duration. A timeout counts as a failure. A duplicate-key answer meaning
//   "already newer" (the stored version is >= the write's) is a success and
//   must be reported as call_result::success: the store did its job.
// - A call is slow when its duration is strictly greater than `slow_call`,
//   whatever its result. Rates compare with ">=": with 50 %, 5 failures out of
//   10 calls trip; with min_calls 10, 9 calls never trip on a rate.
// - The rolling window is `window / bucket` buckets keyed by
//   floor(now / bucket); an outcome lands in the bucket of its report time, and
//   the window at `now` holds the buckets (B - n, B] where B is now's bucket,
//   so it spans between window - bucket and window. Memory is O(n); a record
//   costs O(n) with n = 10 by default. Trips are evaluated on record() only.
// - Every admitted call must be reported exactly once (the supervisor times
//   calls out, so a lost call is reported as a timeout). Each allow() returns a
//   permit stamped with a generation that changes on every state change;
//   outcomes of permits from an earlier generation are ignored, so a late
//   answer from before a trip never counts as a half-open probe.
// - `now` is clamped to the latest value seen, so time never runs backwards.
// - The transition listener is called synchronously after each state change
//   (never for a self-loop, e.g. a restart while half-open, which still
//   restarts the probe round); it must not call back into the breaker.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "messages/breaker_state.hpp"
#include "messages/errors.hpp"

namespace authstore {

/// What a finished cold-store call reports to the breaker.
enum class call_result : uint8_t {
  /// The store answered as intended (including "already newer").
  success,
  /// The store answered with an error or the connection failed.
  failure,
  /// No answer within the call timeout; counts as a failure.
  timeout,
};

/// Why the breaker last opened.
enum class trip_reason : uint8_t {
  /// It has not opened since it last closed.
  none,
  /// consecutive_failures failures in a row.
  consecutive_failures,
  /// The failure rate in the window reached failure_rate_percent.
  failure_rate,
  /// The slow-call rate in the window reached slow_call_rate_percent.
  slow_call_rate,
  /// A half-open probe failed, timed out or was slow.
  probe_failed,
};

/// Stable tokens: "success", "failure", "timeout".
std::string_view to_string(call_result x);

/// Stable tokens: "none", "consecutive_failures", "failure_rate",
/// "slow_call_rate", "probe_failed".
std::string_view to_string(trip_reason x);

/// Tuning of one breaker, bounds in validate(). The engine sets it from the
/// cold.* settings (runtime/node/config.cpp), whose defaults these are;
/// bucket and the jitter fields have no setting.
struct circuit_breaker_config {
  /// Span of the rolling window for the failure and slow-call rates.
  std::chrono::milliseconds window = std::chrono::seconds(10);
  /// Width of one window bucket; `window` must be a whole multiple of it.
  std::chrono::milliseconds bucket = std::chrono::seconds(1);
  /// Fewest calls in the window before a rate can trip (a handful of calls
  /// says nothing about a rate).
  uint32_t min_calls = 10;
  /// Trips when failures * 100 >= failure_rate_percent * calls.
  uint32_t failure_rate_percent = 50;
  /// Trips on this many failures in a row, window or not.
  uint32_t consecutive_failures = 5;
  /// A call taking strictly longer than this is slow.
  std::chrono::milliseconds slow_call = std::chrono::seconds(1);
  /// Trips when slow * 100 >= slow_call_rate_percent * calls. 80 %, not 100 %:
  /// one fast error among ten 30 s calls must not keep the circuit closed.
  uint32_t slow_call_rate_percent = 80;
  /// Nominal open period after a trip from closed.
  std::chrono::milliseconds open_base = std::chrono::seconds(5);
  /// Cap of the nominal open period, which doubles per failed probe.
  std::chrono::milliseconds open_max = std::chrono::seconds(60);
  /// An open period is nominal * (1 - jitter_percent/100 * u), u in [0, 1):
  /// never above the cap, and nodes that tripped together probe apart.
  uint32_t jitter_percent = 20;
  /// Probes per half-open round; all must succeed to close. 3, not 1: one
  /// lucky call must not close the circuit on a flapping store.
  uint32_t half_open_probes = 3;
  /// Seed of the built-in jitter source; 0 seeds from std::random_device so
  /// that nodes do not share a jitter sequence.
  uint64_t jitter_seed = 0;
};

/// Returns `cfg` if every field is in bounds, else errc::invalid_config naming
/// the field.
outcome<circuit_breaker_config> validate(const circuit_breaker_config& cfg);

/// The answer of allow(): converts to true if the call may go ahead. Hand it
/// back to record() when the call finishes.
class breaker_permit {
public:
  /// True if the call may go ahead.
  explicit operator bool() const { return allowed_; }

private:
  friend class circuit_breaker;
  bool allowed_ = false;
  uint64_t generation_ = 0;
};

/// A health-check snapshot of the breaker.
struct breaker_status {
  /// The current state.
  breaker_state state = breaker_state::closed;
  /// Outcomes in the window (closed only; the window is cleared on change).
  uint64_t calls = 0;
  /// Failures and timeouts in the window.
  uint64_t failures = 0;
  /// Slow calls in the window.
  uint64_t slow_calls = 0;
  /// Failures in a row (closed only).
  uint64_t consecutive_failures = 0;
  /// Probes let through in this half-open round.
  uint32_t probes_admitted = 0;
  /// Probes of this round that succeeded.
  uint32_t probes_succeeded = 0;
  /// Time until the breaker goes half-open (open only, else zero).
  std::chrono::steady_clock::duration next_probe_in{0};
  /// Jittered length of the latest open period; zero since the last close.
  std::chrono::steady_clock::duration open_period{0};
  /// Why the breaker last opened; none since the last close.
  trip_reason last_trip = trip_reason::none;
};

/// The cold store's circuit breaker (see the diagram above).
class circuit_breaker {
public:
  /// The clock whose time points callers pass in as `now`.
  using clock = std::chrono::steady_clock;
  /// Returns a uniform double in [0, 1) (values outside are clamped).
  using uniform_source = std::function<double()>;
  /// Called after each state change with (from, to, why): `why` is what
  /// tripped it when `to` is open, trip_reason::none otherwise.
  using transition_listener
    = std::function<void(breaker_state, breaker_state, trip_reason)>;

  /// Starts closed. `cfg` should pass validate(); out-of-range fields are
  /// clamped into bounds so the breaker stays well-defined. An empty `uniform`
  /// uses a std::mt19937_64 seeded from cfg.jitter_seed.
  explicit circuit_breaker(const circuit_breaker_config& cfg,
                           uniform_source uniform = {},
                           transition_listener on_transition = {});

  /// Asks whether a call may go ahead at `now`; may move open -> half_open.
  breaker_permit allow(clock::time_point now);

  /// Reports the outcome of a call admitted by `permit`; may trip or close.
  void record(const breaker_permit& permit, call_result result,
              clock::duration duration, clock::time_point now);

  /// The supervisor restarted the worker: probe the new one (half_open).
  /// Ignored under an operator override.
  void on_worker_restarted(clock::time_point now);

  /// Operator override: reject every call until reset_to_auto().
  void force_open();

  /// Operator override: allow every call, track nothing, never trip.
  void disable();

  /// Ends an operator override: closed with a fresh window. No-op otherwise.
  void reset_to_auto();

  /// The state as of the latest call (an elapsed open period shows up on the
  /// next call that takes `now`).
  breaker_state state() const { return state_; }

  /// Snapshot at `now`; first moves open -> half_open if the period elapsed.
  breaker_status status(clock::time_point now);

private:
  struct bucket {
    int64_t index;
    uint64_t calls;
    uint64_t failures;
    uint64_t slow;
  };

  void advance(clock::time_point now);
  void enter(breaker_state to);
  void record_closed(bool failed, bool slow, clock::time_point now);
  void record_probe(bool failed, bool slow, clock::time_point now);
  void open_circuit(trip_reason why, clock::time_point now);
  bucket window_sum(clock::time_point now) const;
  int64_t bucket_index(clock::time_point t) const;

  circuit_breaker_config cfg_;
  uniform_source uniform_;
  transition_listener on_transition_;
  breaker_state state_ = breaker_state::closed;
  uint64_t generation_ = 1;
  clock::time_point now_ = clock::time_point::min();
  std::vector<bucket> buckets_;
  uint64_t consecutive_ = 0;
  uint32_t probes_admitted_ = 0;
  uint32_t probes_succeeded_ = 0;
  uint32_t failed_probes_ = 0;
  clock::time_point open_until_{};
  clock::duration open_period_{0};
  trip_reason last_trip_ = trip_reason::none;
};

} // namespace authstore
