// engine_actors.hpp -- actor-level access to a running engine, for callers
// that keep many requests in flight (the simulator, the remote server).
// Includes CAF; include it only where actors are used.
#pragma once

#include <caf/actor_system.hpp>

#include "actors/cold_supervisor.hpp"
#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"
#include "redis/layout.hpp"
#include "runtime/engine/engine.hpp"

namespace authstore {

/// What engine::start(cfg) does not take from the settings.
struct engine_options {
  /// Spawns the cold worker instead of the one around the configured
  /// store (tests: a fake store that fails, hangs or crashes on command).
  /// A cold store (cold.uri, or mongodb.uri) must still be configured: it
  /// switches the cold path and its dirty marks on.
  cold_worker_factory cold_worker;
};

/// Everything the engine counts (the numbers /metrics serves).
const engine_counters& engine_counts(engine& e);

/// The counters the HTTP front door (runtime/http/) counts into; /metrics
/// renders them with the engine's.
api_counters& engine_api_counters(engine& e);

/// The counters of encryption at rest and of failed authentication (both
/// front doors count into them).
security_counters& engine_security_counters(engine& e);

/// The outbox backlog read from Redis now (all nodes' dirty sessions), via
/// the reconciler's connection; no_cold_store without a cold store, or
/// with outbox.reconcile off.
outcome<redis_layout::outbox_figures> engine_outbox_backlog(engine& e);

/// The actor system the engine runs in.
caf::actor_system& engine_system(engine& e);

/// The engine's entry actor (session API, batches, stats).
router_actor engine_router(engine& e);

/// Names the connector through which the router forwards requests of
/// sessions other nodes own (issue #19; authstore serve, cluster.enabled).
void engine_forward_through(engine& e, peer_connector_actor connector);

/// The cold store's supervisor (status, operator controls); null in
/// Redis-only mode (no cold store).
cold_actor engine_cold(engine& e);

/// The cluster registrar (membership, issue #19); null unless
/// cluster.enabled.
registrar_actor engine_registrar(engine& e);

/// Redis round trips and commands so far, summed over the pool.
struct redis_pool_counters {
  uint64_t round_trips = 0;
  uint64_t commands = 0;
};
redis_pool_counters engine_redis_counters(engine& e);

/// The engine's Redis connections (one actor each), e.g. for readiness.
const std::vector<redis_actor>& engine_redis_pool(engine& e);

/// The cold supervisor's status, or false when there is none or it did not
/// answer within 1 s.
bool engine_cold_status(engine& e, cold_status& out);

} // namespace authstore
