// redis_actor.hpp -- spawns the Redis actors (one per pooled connection).
#pragma once

#include <vector>

#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"
#include "redis/connection.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Configuration of the Redis pool.
struct redis_actor_config {
  redis_connection_config connection;
  /// Most requests sent in one pipeline (bounds latency of a batch).
  size_t max_batch = 512;
  /// Where to count round trips, batch sizes, errors (may be null).
  redis_counters* counters = nullptr;
};

/// Spawns one detached Redis actor owning one connection.
redis_actor spawn_redis_actor(caf::actor_system& sys, redis_actor_config cfg);

} // namespace authstore
