// remote_server.hpp -- the engine over CAF's middleman: an auth gate that
// is published on a TCP port, and one session handle per authenticated
// connection (issue #6).
//
//   peer ──TCP/BASP──▶ auth_gate (published; detached blocking actor)
//                        │ hello/auth (runtime/auth.hpp), then spawns
//                        ▼
//                      session handle (router_actor; one per connection;
//                                      runtime/remote_session.hpp)
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
#include "runtime/config.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace authstore {

class engine;

/// The TLS files of one side of a remote connection (remote.tls-*; README,
/// Remote access). All empty: plain TCP, exactly as without TLS. Set: the
/// connection runs through CAF's OpenSSL module (TLS 1.2 or later), both
/// sides present a certificate (mutual TLS) and each checks that the
/// peer's certificate chains to its CA file. Host names are not checked:
/// every certificate the CA signed is accepted, so use a CA of its own for
/// authstore. TLS does not replace the shared secret; both apply.
struct tls_files {
  /// PEM certificate (chain) this side presents.
  std::string cert;
  /// PEM private key of `cert`, unencrypted.
  std::string key;
  /// PEM CA certificates that must have signed the peer's certificate.
  std::string ca;

  /// Whether TLS is on (a certificate is set).
  bool enabled() const { return !cert.empty(); }

  /// Reads remote.tls-cert, remote.tls-key and remote.tls-ca.
  static tls_files from(const settings& s);
};

/// Whether this build has CAF's OpenSSL module (libcaf_openssl).
bool tls_supported();

/// Checks TLS files before an actor system uses them: CAF reads them again
/// at every new connection and aborts the process on one it cannot load,
/// so every problem must surface here, at start. Checks that all three or
/// none are set, that each file is readable, that the certificate and CA
/// file hold PEM certificates, that the key is an unencrypted PEM key and
/// matches the certificate. Nothing set: fine (plain TCP). Errors:
/// invalid_config naming the setting (remote.tls-*) and the file.
outcome<bool> check_tls_files(const tls_files& files);

/// Loads CAF's OpenSSL module into `cfg` and points it at `files`, when
/// TLS is on; otherwise leaves `cfg` as it is. Call check_tls_files first.
void configure_tls(caf::actor_system_config& cfg, const tls_files& files);

/// What `authstore serve` publishes and how it bounds each connection.
struct remote_server_config {
  /// Address to listen on.
  std::string bind = "127.0.0.1";
  /// Port to listen on; 0 picks a free one (see remote_server::port()).
  uint16_t port = 0;
  /// The shared secret; empty means "no authentication" and is allowed
  /// only for a loopback bind (cmd_serve checks --insecure-no-auth).
  std::string secret;
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

/// Sets the middleman heartbeat interval and connection timeout on a CAF
/// configuration. CAF reads both when the actor system starts, so this must
/// run before; both ends of a connection should call it.
void configure_middleman(caf::actor_system_config& cfg,
                         std::chrono::milliseconds heartbeat,
                         std::chrono::milliseconds connection_timeout);

/// configure_middleman from remote.heartbeat-ms and
/// remote.connection-timeout-ms. The engine's actor system needs this for a
/// server to detect frozen clients (README, Remote access).
void configure_remote_node(caf::actor_system_config& cfg, const settings& s);

/// Whether `address` is a loopback address (127.0.0.0/8, ::1, localhost).
bool is_loopback_address(const std::string& address);

} // namespace authstore
