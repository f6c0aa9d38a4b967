// peer_connector.hpp -- authenticated connections from this node to the
// other nodes of the cluster, for forwarding (issue #19).
//
// Why: a node forwards the requests of sessions another node owns to that
// node's engine (actors/session_router.cpp). The owner's engine is reached
// exactly as a remote client reaches it: its published auth gate, the
// shared-secret handshake (runtime/remote/auth.hpp), TLS when remote.tls-*
// are set; there is no second, unauthenticated way in. The connector
// resolves a node id to the middleman address the membership records
// (actors/cluster_registrar.hpp), connects through the middleman's
// asynchronous API (connect_atom to the middleman actor: never a blocking
// call on a scheduler thread) and runs the handshake in a connection actor
// (runtime/remote/connection.hpp), which also fails the calls pending when
// the connection dies. It keeps one connection per node and makes a new
// one when asked after the old one died.
//
// Messages: peer_connector_actor (messages/interfaces.hpp).
// Lifecycle: spawned by remote_server::start (cluster.enabled), named to
// the router there; stopped with the server: its connections go with it,
// and their pending calls end at their own timeouts.
#pragma once

#include <chrono>
#include <string>

#include "messages/interfaces.hpp"

namespace authstore {

/// What the connector is created with.
struct peer_connector_config {
  /// Where node ids are resolved to addresses.
  registrar_actor registrar;
  /// The shared secret this node's clients present (remote.secret-file).
  std::string secret;
  /// Through the OpenSSL module (remote.tls-* set), as clients do.
  bool tls = false;
  /// Bound on each step: membership, connect, each handshake step.
  std::chrono::milliseconds step_timeout{3000};
  /// Bound on one forwarded call (the connection actor's request timeout).
  std::chrono::milliseconds request_timeout{4000};
};

/// Spawns the connector in `sys` (scheduled; it never blocks).
peer_connector_actor spawn_peer_connector(caf::actor_system& sys,
                                          peer_connector_config cfg);

} // namespace authstore
