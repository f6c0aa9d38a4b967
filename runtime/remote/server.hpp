// server.hpp -- the engine over CAF's middleman: an auth gate that
// is published on a TCP port, and one session handle per authenticated
// connection (issue #6).
//
//   peer ──TCP/BASP──▶ auth_gate (published; detached blocking actor)
//                        │ hello/auth (runtime/remote/auth.hpp), then spawns
//                        ▼
//                      session handle (router_actor; one per connection;
//                                      runtime/remote/session_handle.hpp)
//                        │ request(..., forward timeout), counted
//                        ▼
//                      the engine's session_router
//
// Why a gate: nothing but the handshake is reachable before a peer proves
// that it knows the shared secret; the session handle it then hands out is
// the only way to the engine, and it enforces this connection's limits
// (requests in flight, request size), answers only requests from the node
// that authenticated, and dies when that peer's actor or connection does
// (it monitors the requester of the auth step).
//
// Why the gate is a *blocking* actor on its own thread: any CAF peer can
// send exit_msg{kill} to a published actor, and an event-based actor cannot
// survive that (checked: an unauthenticated peer killed a published
// event-based gate). A blocking actor only receives exit messages as
// ordinary messages, and the gate ignores them. Unknown messages get
// unexpected_message back and are dropped; they do not affect the
// connection.
//
// Transport: plain TCP, or TLS through CAF's OpenSSL module when
// remote.tls-* are set (tls_files below; mutual certificates, checked
// before the actor system starts). The gate and its handshake are the same
// either way: TLS protects the wire, the shared secret still decides who
// may talk to the engine.
//
// Lifecycle: start() publishes; stop() closes the port (no new
// connections), refuses new handshakes with shutting_down, and drains every
// session: requests already forwarded are answered (acknowledged or
// failed), new ones are refused with shutting_down (not applied), then the
// handle quits with user_shutdown, which clients read as "whatever is still
// pending was not applied". Draining is bounded by the forward timeout; a
// session still busy after that is killed (its callers see a timeout:
// outcome unknown).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "messages/errors.hpp"
#include "runtime/node/auth_limiter.hpp"
#include "runtime/node/config.hpp"
#include "runtime/node/node_settings.hpp"

namespace authstore {

class engine;

/// What `authstore serve` publishes and how it bounds each connection.
struct remote_server_config {
  /// Address to listen on.
  std::string bind = "127.0.0.1";
  /// Port to listen on; 0 picks a free one (see remote_server::port()).
  uint16_t port = 0;
  /// The shared secret; empty means "no authentication" and is allowed
  /// only for a loopback bind (cmd_serve checks --insecure-no-auth).
  std::string secret;
  /// A second secret accepted too (the second line of remote.secret-file,
  /// during a rotation); empty: none.
  std::string previous_secret;
  /// Failed handshakes per peer address (auth.max-failures per
  /// auth.failure-window-s); beyond it hellos are refused unchecked.
  auth_limiter::config auth_limit;
  /// Requests one connection may have in flight.
  size_t max_outstanding = 128;
  /// Largest request (patch payload or read ids), in bytes.
  size_t max_message_bytes = 16u << 20;
  /// Authenticated connections at once.
  size_t max_connections = 1024;
  /// Bound on one request forwarded to the engine; the session's own
  /// timeout plus a margin, so its precise error arrives first.
  std::chrono::milliseconds forward_timeout{4000};
  /// How long a handshake challenge stays valid.
  std::chrono::milliseconds challenge_ttl{10000};
  /// TLS: on when set; the engine's actor system must have been configured
  /// with the same files (configure_tls; engine.cpp does it).
  tls_files tls;

  /// Reads the remote.* settings (the secret is loaded by the caller).
  static remote_server_config from(const settings& s);
};

/// The published endpoint of a running engine.
class remote_server {
public:
  /// Spawns the gate in the engine's actor system and publishes it (with
  /// TLS when cfg.tls is on). Errors: invalid_config (address or port
  /// cannot be bound, TLS asked for but not loaded in the actor system).
  static outcome<std::unique_ptr<remote_server>>
  start(engine& e, remote_server_config cfg);

  /// Stops (as stop(forward_timeout)) if stop() was not called.
  ~remote_server();

  remote_server(const remote_server&) = delete;
  remote_server& operator=(const remote_server&) = delete;

  /// The port bound.
  uint16_t port() const;

  /// "ADDR:PORT" ("[ADDR]:PORT" for IPv6), as printed by `serve`.
  std::string endpoint() const;

  /// What stop() did.
  struct stop_report {
    /// Sessions live when stopping began.
    size_t sessions = 0;
    /// Sessions killed because they were still busy after the bound.
    size_t killed = 0;
  };

  /// Closes the port, refuses new handshakes, drains every session within
  /// `bound` (then kills the rest) and stops the gate. Idempotent.
  stop_report stop(std::chrono::milliseconds bound);

  struct impl;

private:
  explicit remote_server(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
