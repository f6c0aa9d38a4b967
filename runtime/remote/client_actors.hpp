// client_actors.hpp -- actor-level access to a remote_client's
// session, for callers that keep many requests in flight (benchmarks, the
// simulator), like runtime/engine/engine_actors.hpp for the in-process engine.
// Includes CAF; include it only where actors are used.
//
// Requests sent straight to the session handle bypass the client's
// bookkeeping: they are not failed when the connection drops (CAF leaves
// them to their own timeout), so such callers must pass finite timeouts and
// should monitor the handle. Any actor of the client's actor system may use
// it: the server serves every actor of the node that authenticated.
#pragma once

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"
#include "runtime/remote/client.hpp"

namespace authstore {

/// The client's own actor system.
caf::actor_system& remote_client_system(remote_client& c);

/// The current session handle, or nullptr when no session is up (a call
/// through the remote_client reconnects).
router_actor remote_client_session(remote_client& c);

} // namespace authstore
