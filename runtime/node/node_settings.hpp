// node_settings.hpp -- how a node's actor system talks to other nodes:
// the TLS files and their checks, the middleman's heartbeat and connection
// timeout, the scheduler, and the loopback test that decides whether a
// listener may run without authentication.
//
// Why a unit of its own: the remote server, the remote client and the
// in-process engine all configure a CAF actor system from these settings,
// and none of them should depend on another to do it (the engine used to
// include the remote server just for this). CAF reads every one of these
// settings only when the actor system starts, so each configure_* function
// must run on the actor_system_config before the system is constructed.
//
// CAF-free header: caf::actor_system_config is only forward-declared.
#pragma once

#include <chrono>
#include <string>

#include "messages/errors.hpp"
#include "runtime/node/config.hpp"

namespace caf {
class actor_system_config;
} // namespace caf

namespace authstore {

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

/// Sets the scheduler from scheduler.max-threads and
/// scheduler.moderate-sleep-us (CAF-0.17-GUIDE section 7: on 2 cores, 2
/// workers that never sleep between polls gave 5-6x lower thread-hop
/// latency and less idle CPU than CAF's defaults).
void configure_scheduler(caf::actor_system_config& cfg, const settings& s);

} // namespace authstore
