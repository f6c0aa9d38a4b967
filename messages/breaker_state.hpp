// breaker_state.hpp -- the cold store's circuit-breaker state, as a value of
// the protocol.
//
// Why here and not beside the breaker (actors/circuit_breaker.hpp): the
// state crosses actor boundaries in cold_status (messages/interfaces.hpp),
// and messages/ depends on nothing above it. CAF serializes the enum as its
// underlying type, so the numbers below are the wire values and the metrics
// gauge values: pinned, only appended. CAF-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace authstore {

/// The breaker's state; the value is the metrics gauge value.
enum class breaker_state : uint8_t {
  /// Calls flow; outcomes are counted in the rolling window.
  closed = 0,
  /// A few probe calls are let through to test the cold store.
  half_open = 1,
  /// Every call is rejected until the open period has elapsed.
  open = 2,
  /// An operator rejected every call (force_open()).
  forced_open = 3,
  /// An operator let every call through untracked (disable()).
  disabled = 4,
};

/// Number of breaker states (the transition matrix is count x count).
constexpr size_t breaker_state_count = 5;

/// Stable tokens: "closed", "half_open", "open", "forced_open", "disabled".
std::string_view to_string(breaker_state x);

/// Whether every call is refused right now: forced open, or open with no
/// probe due yet (`next_probe_ms` > 0). An open breaker whose period has
/// elapsed lets the next call through as a probe.
bool refuses_calls(breaker_state x, int64_t next_probe_ms);

} // namespace authstore
