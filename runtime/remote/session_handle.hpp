// session_handle.hpp -- one authenticated remote connection's view of the
// engine: the session handle the auth gate hands out (remote_server.hpp).
//
// A session handle has the router_actor interface and forwards every
// request to the engine's router with a finite timeout. It enforces this
// connection's limits (requests in flight, request size), answers only
// requests from the node that authenticated, and stops when that peer's
// actor or connection is down (it monitors the requester of the auth
// step). Refusals are "not applied": nothing was forwarded.
//
// Lifecycle: spawned by the gate at auth. user_shutdown (the gate's stop)
// drains it: requests already forwarded are answered, new ones are refused
// with shutting_down, and it quits with user_shutdown once none is in
// flight, which clients read as "whatever is still pending was not
// applied". Peer down or kill: it quits at once; the answers to requests in
// flight have nobody left to go to (their callers time out: unknown).
#pragma once

#include <chrono>
#include <cstddef>

#include "messages/interfaces.hpp"

namespace authstore {

/// What a session handle is created with.
struct remote_session_config {
  /// The engine's entry actor.
  router_actor router;
  /// The actor that authenticated (a proxy of the client's actor).
  caf::strong_actor_ptr peer;
  /// Requests forwarded and not answered at once; more are overloaded.
  size_t max_outstanding = 128;
  /// Largest request (patch payload or read ids), in bytes.
  size_t max_message_bytes = 16u << 20;
  /// Bound on one forwarded request.
  std::chrono::milliseconds forward_timeout{4000};
};

/// Spawns a session handle in `sys`.
router_actor spawn_remote_session(caf::actor_system& sys,
                                  remote_session_config cfg);

} // namespace authstore
