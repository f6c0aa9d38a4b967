// cluster_registrar.hpp -- spawns the actor that keeps this node in the
// cluster's membership (issue #19, cluster.enabled).
#pragma once

#include <chrono>
#include <string>

#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Settings of the registrar.
struct registrar_config {
  /// The Redis connection it heartbeats on (a heartbeat is one small
  /// script call per interval, so it shares the engine's pool).
  redis_actor redis;
  std::string node_id;
  /// This process's token (the one its ownership records carry).
  std::string process_token;
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds member_ttl{5000};
  /// Bound on one heartbeat call.
  std::chrono::milliseconds redis_timeout{3000};
  /// Members gauge and heartbeat failures (may be null).
  cluster_counters* counters = nullptr;
};

/// Spawns the registrar (scheduled; it never blocks). It heartbeats only
/// after join_atom names its middleman address.
registrar_actor spawn_cluster_registrar(caf::actor_system& sys,
                                        registrar_config cfg);

} // namespace authstore
