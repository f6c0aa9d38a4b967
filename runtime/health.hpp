// health.hpp -- the bodies of /healthz (liveness) and /readyz (readiness).
//
// Liveness: the actor system answers (the router replies to a stats query
// within 1 s). Readiness: every Redis connection answers PING within its
// command timeout; without Redis no write can be acknowledged. The cold
// store is reported but does not make the node unready (writes are still
// accepted while it is down). Bodies are JSON listing each component.
#pragma once

#include <vector>

#include "messages/interfaces.hpp"
#include "runtime/config.hpp"
#include "runtime/http_server.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

http_response liveness(caf::actor_system& sys, const router_actor& router);

/// `cold` may be null (no cold store); its breaker state is reported, but
/// an open breaker does not make the node unready (writes still succeed).
http_response readiness(caf::actor_system& sys,
                        const std::vector<redis_actor>& pool,
                        const cold_actor& cold, const settings& cfg);

/// The cold supervisor's status, or false when there is none or it did not
/// answer within 1 s.
bool query_cold_status(caf::actor_system& sys, const cold_actor& cold,
                       cold_status& out);

} // namespace authstore
