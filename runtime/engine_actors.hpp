// engine_actors.hpp -- actor-level access to a running engine, for callers
// that keep many requests in flight (the simulator, the remote server).
// Includes CAF; include it only where actors are used.
#pragma once

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"
#include "runtime/engine.hpp"

namespace authstore {

/// The actor system the engine runs in.
caf::actor_system& engine_system(engine& e);

/// The engine's entry actor (session API, batches, stats).
router_actor engine_router(engine& e);

/// The cold store's supervisor (status, operator controls); null in
/// Redis-only mode (no mongodb.uri).
cold_actor engine_cold(engine& e);

/// Redis round trips and commands so far, summed over the pool.
struct redis_pool_counters {
  uint64_t round_trips = 0;
  uint64_t commands = 0;
};
redis_pool_counters engine_redis_counters(engine& e);

} // namespace authstore
