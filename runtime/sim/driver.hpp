// driver.hpp -- the simulator's driver actors and the counters they
// fill. CAF-free header; the actors are in sim_driver.cpp.
//
// `concurrency` driver actors each own every concurrency-th session and keep
// exactly one request in flight: connect bursts first, then steady traffic
// until the operation budget or the deadline, then verification (read every
// session back and compare with the acknowledged writes).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "observe/latency_histogram.hpp"
#include "runtime/sim/traffic.hpp"

namespace authstore {

class engine;
class remote_client;

/// What to simulate.
struct sim_plan {
  size_t sessions = 100;
  size_t concurrency = 32;
  /// Steady-state operation budget; 0: run for `duration`.
  uint64_t ops = 0;
  std::chrono::seconds duration{10};
  double read_ratio = 0.5;
  /// Run each session's connect burst before steady traffic.
  bool connect_burst = true;
  uint64_t seed = 1;
  /// Bound on one request.
  std::chrono::milliseconds op_timeout{5000};
};

/// The id of simulated session `i`: "sim-<seed>-<i>" (the drivers write
/// under it, the report reads it back).
std::string sim_session_id(const sim_plan& plan, size_t i);

/// Counters shared by the drivers and the reporting thread (relaxed
/// atomics: each is an independent statistic).
struct sim_counters {
  std::array<latency_histogram, 3> latency; // by sim_op_kind
  /// The same by phase of a run with faults (index: sim_phase,
  /// runtime/sim/faults.hpp; all in the first without faults), then by
  /// sim_op_kind. An operation counts in the phase it ended in.
  std::array<std::array<latency_histogram, 3>, 3> phase_latency;
  /// The phase now, set by the main loop as faults start and end.
  std::atomic<uint8_t> phase{0};
  std::array<std::atomic<uint64_t>, 3> errors{};
  /// Errors by errc value (errc_slot).
  std::array<std::atomic<uint64_t>, errc_slots> errors_by_code{};
  std::atomic<uint64_t> steady_tickets{0};
  std::atomic<uint64_t> fields_written{0};
  std::atomic<uint64_t> verified{0};
  std::atomic<uint64_t> uncertain{0};
  std::atomic<uint64_t> lost{0};
  std::atomic<uint64_t> unexpected{0};
  std::atomic<uint64_t> verify_errors{0};
  std::atomic<size_t> drivers_done{0};
  /// Set when the steady phase of every driver is over (for the report's
  /// duration: verification is not counted as load).
  std::atomic<size_t> steady_done{0};

  uint64_t total_ops() const;
  uint64_t total_errors() const;
};

/// Spawns the drivers in `e`'s actor system; returns at once. Done when
/// counters.drivers_done == plan.concurrency.
void start_sim_drivers(engine& e, const sim_plan& plan, sim_counters& counters);

/// The same against remote nodes (`authstore serve`), through each
/// client's authenticated session handle: driver slot i (and with it its
/// sessions: i, i + concurrency, ...) uses clients[i % clients.size()], so
/// several nodes of a cluster (issue #19) share the sessions, each session
/// on one node. `clients` is not empty.
void start_sim_drivers(const std::vector<remote_client*>& clients,
                       const sim_plan& plan, sim_counters& counters);

} // namespace authstore
