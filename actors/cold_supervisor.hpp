// cold_supervisor.hpp -- spawns the only door to the cold store.
//
// The supervisor holds the circuit breaker (actors/circuit_breaker.hpp),
// forwards each call to its worker with a finite timeout, answers at once
// while the circuit is open, and restarts a crashed worker with capped
// exponential backoff. See cold_supervisor.cpp for the protocol and its
// guarantees.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

#include "actors/circuit_breaker.hpp"
#include "messages/cold_gate.hpp"
#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Starts one worker; called at start and after every crash. Production
/// passes spawn_cold_worker (actors/cold_worker.hpp) with the configured
/// backend's opener; tests pass a fake.
using cold_worker_factory
  = std::function<cold_worker_actor(caf::actor_system&)>;

/// Settings of the cold supervisor. The engine sets them from the cold.*
/// settings (runtime/node/config.cpp), whose defaults these are; fields
/// without a setting keep the values below.
struct cold_supervisor_config {
  /// Trip rules, open periods and probes (validate() them first).
  circuit_breaker_config breaker;
  /// Bound on one forwarded call; no answer in time is a timeout (an error
  /// to the caller, a failure to the breaker). 3 s: above a healthy
  /// majority write, below what a session's caller waits.
  std::chrono::milliseconds call_timeout{3000};
  /// Wait before the first restart of a crashed worker; doubles on each
  /// crash in a row (until a call succeeds on the new worker).
  std::chrono::milliseconds restart_backoff_base{100};
  /// Cap of the restart wait.
  std::chrono::milliseconds restart_backoff_max{10000};
  /// Bound on the index creation call sent to each new worker. Long,
  /// because it queues ahead of data calls only once per worker and a cold
  /// server selection alone can take the URI's serverSelectionTimeoutMS.
  std::chrono::milliseconds init_timeout{60000};
  /// Wait before retrying a failed index creation on the same worker.
  std::chrono::milliseconds index_retry{30000};
  /// Most calls forwarded and not answered; more are refused with
  /// overloaded (a CAF requester's response map is O(n), and a single
  /// worker thread cannot drain a deeper queue within call_timeout anyway).
  size_t max_in_flight = 1024;
  /// Spawns the worker (required).
  cold_worker_factory make_worker;
  /// The backend() of the stores the workers open ("mongodb",
  /// "postgresql"): the `backend` label of the cold metrics and logs (one
  /// value per backend).
  std::string backend;
  /// Where calls are counted by operation (may be null).
  cold_counters* counters = nullptr;
  /// Where the breaker's refusals are published after every allow, record
  /// and state change (may be null; messages/cold_gate.hpp), so that
  /// persist rounds do not read what the breaker would refuse. Must
  /// outlive the supervisor.
  cold_gate* gate = nullptr;
};

/// Spawns the cold supervisor (a scheduled actor; it never blocks), which
/// spawns its first worker at once. Stop it with an exit message: calls in
/// flight are answered with shutting_down and the worker is stopped too.
cold_actor spawn_cold_supervisor(caf::actor_system& sys,
                                 cold_supervisor_config cfg);

} // namespace authstore
