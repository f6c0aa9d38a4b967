// session_router.hpp -- spawns the engine's entry actor.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "actors/session_actor.hpp"
#include "messages/interfaces.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Settings of the router.
struct session_router_config {
  /// The Redis pool; a session always uses pool[hash(sid) % size].
  std::vector<redis_actor> redis_pool;
  std::shared_ptr<const session_config> session;
  /// Passivate a session actor idle for this long.
  std::chrono::milliseconds idle_passivate{std::chrono::minutes{5}};
  /// Most live session actors; the least recently used is passivated.
  size_t max_live = 100000;
  /// How often idle sessions are looked for.
  std::chrono::milliseconds sweep_interval{std::chrono::seconds{1}};
  /// Bound on each per-session request of a batch operation.
  std::chrono::milliseconds batch_timeout{std::chrono::seconds{10}};
  /// Under node ownership (session->ownership): bound on a request to a
  /// local session actor (the router then waits for its answer, to forward
  /// a write refused with not_owner) and on a forward to another node.
  std::chrono::milliseconds forward_timeout{std::chrono::seconds{4}};
  /// Bound on getting a connection to another node from the connector.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds{8}};
};

/// Spawns the router (a scheduled actor; it never blocks). With node
/// ownership on, it forwards the requests of sessions other nodes own
/// through the connector named by (peer_atom, connector); see the .cpp.
engine_router_actor spawn_session_router(caf::actor_system& sys,
                                         session_router_config cfg);

} // namespace authstore
