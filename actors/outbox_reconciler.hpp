// outbox_reconciler.hpp -- spawns the actor that persists sessions left
// dirty in Redis (after a crash, a cold-store outage, a failed live
// persist). See outbox_reconciler.cpp for the protocol and its guarantees.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

class cold_gate;

/// Settings of one reconciler. The engine sets them from the outbox.*
/// settings (runtime/node/config.cpp), whose defaults these are; page has
/// no setting.
struct reconciler_config {
  /// Its own Redis connection (not a session pool member: a sweep or a big
  /// outbox read must not queue ahead of session traffic).
  redis_actor redis;
  /// The cold supervisor (required).
  cold_actor cold;
  /// Time between ticks. The first tick runs at once: on start (after a
  /// crash) the reconciler drains what is dirty.
  std::chrono::milliseconds interval{1000};
  /// Only sessions dirty for at least this long are taken, so the live
  /// persist path (which runs right after each write) is not raced.
  std::chrono::milliseconds grace{5000};
  /// Most persists in flight at once (the cold worker is one thread).
  size_t max_in_flight = 32;
  /// Index entries read per tick.
  size_t page = 256;
  /// How long a claim keeps other reconcilers off a session: longer than a
  /// persist can take (the supervisor bounds it by its call timeout).
  std::chrono::milliseconds lease{30000};
  /// Per-session backoff after a failure: base doubling per failure in a
  /// row, up to max, times a jitter in [0.5, 1.5).
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{60000};
  /// Bound on each Redis request and on each persist call.
  std::chrono::milliseconds redis_timeout{3000};
  /// Hot TTL a session gets once its persist left it clean (0 = none).
  std::chrono::seconds hot_ttl{0};
  std::chrono::milliseconds cold_timeout{4000};
  /// Keys examined per sweep step (one step per tick); 0 disables the sweep.
  size_t sweep_count = 1000;
  /// Identifies this reconciler in claims (unique per process start).
  std::string owner;
  /// Where it counts (may be null).
  outbox_counters* counters = nullptr;
  /// The cold supervisor's published breaker (messages/cold_gate.hpp; may
  /// be null: then each tick asks the supervisor's status). While it
  /// refuses every call nothing is claimed; while it probes, at most its
  /// probe slots are claimed per scan.
  const cold_gate* gate = nullptr;
};

/// Spawns the reconciler (a scheduled actor; it never blocks). Stop it with
/// an exit message; claims it held expire after their lease.
reconciler_actor spawn_outbox_reconciler(caf::actor_system& sys,
                                         reconciler_config cfg);

/// A fresh owner token: host-independent random hex (claims only need
/// uniqueness among live reconcilers).
std::string make_owner_token();

} // namespace authstore
