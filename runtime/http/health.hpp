// health.hpp -- the bodies of /healthz (liveness) and /readyz (readiness).
//
// Liveness: the actor system answers (the router replies to a stats query
// within 1 s). Readiness: every Redis connection answers PING within its
// command timeout; without Redis no write can be acknowledged. The cold
// store is reported but does not make the node unready (writes are still
// accepted while it is down). Bodies are JSON listing each component.
#pragma once

#include "runtime/http/http_server.hpp"

namespace authstore {

class engine;

/// /healthz: 200 when the router answers a stats query within 1 s.
http_response liveness(engine& e);

/// /readyz: 200 when every Redis connection answers PING. The cold store's
/// breaker state is reported, but an open breaker does not make the node
/// unready (writes still succeed).
http_response readiness(engine& e);

} // namespace authstore
