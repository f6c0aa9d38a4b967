// connection.hpp -- the client side's connection actor: the peer
// the server sees (runtime/remote/client.hpp uses it).
//
// It runs the handshake (runtime/remote/auth.hpp), so the server's session
// handle monitors it; it forwards every call to the session handle with the
// request timeout and keeps the calls still pending. CAF does not fail
// requests in flight when a remote node dies (CAF-0.17-GUIDE §8: they
// usually end only at their own timeout), so on the session's down_msg it
// fails them itself:
//   - down with user_shutdown: the server drained this session, answering
//     everything it had received first (same connection, in order), so what
//     is still pending never arrived: shutting_down, not applied;
//   - any other reason (connection lost, heartbeat timeout, killed): the
//     request may have been applied: timeout, outcome unknown.
// A request bounced with request_receiver_down was never handled by the
// session (CAF bounces only unprocessed messages): unreachable, not applied.
//
// Messages (local only):
//   (hello_atom, auth_gate_actor) -> router_actor
//        handshake; the session handle once it is up; errors:
//        unauthorized, protocol_mismatch, unreachable
//   the session API of messages/interfaces.hpp (get_creds, get_keys, set,
//   del, touch, exists, read_session) and list_sessions -> forwarded;
//   unreachable when no session is up.
// Lifecycle: spawned with the client, stopped by it (user_shutdown); calls
// pending then are dropped and their callers time out.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

namespace authstore {

/// What the connection actor is created with.
struct remote_connection_config {
  /// Set while a session is up; read by calling threads without a hop.
  std::shared_ptr<std::atomic<bool>> alive;
  /// The shared secret ("" for a server without authentication).
  std::string secret;
  /// Protocol version sent in the hello.
  uint32_t version = 0;
  /// Bound on one forwarded call.
  std::chrono::milliseconds request_timeout{6000};
  /// Bound on each handshake step.
  std::chrono::milliseconds handshake_timeout{3000};
  /// "host:port", for error texts.
  std::string endpoint;
};

/// Spawns a connection actor in `sys`.
caf::actor spawn_remote_connection(caf::actor_system& sys,
                                   remote_connection_config cfg);

} // namespace authstore
