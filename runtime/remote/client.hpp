// client.hpp -- the engine's API from another process or machine,
// through `authstore serve` (issue #6).
//
//   auto opts = authstore::remote_options::from(cfg);   // secret, timeouts
//   auto c = authstore::remote_client::connect("10.0.0.5", 7447, *opts);
//   auto v = (*c)->set_json("5511999", R"({"creds":{"me":{"id":"x"}}})");
//   if (!v && authstore::remote_client::may_have_been_applied(v.error()))
//     ... // re-read before retrying: the write may be in
//
// CAF-free (pimpl): the client runs its own small actor system inside.
// Same operations and results as runtime/engine/engine.hpp. Errors say whether
// the request may have been applied:
//   timeout       sent, no answer in time or the connection was lost after
//                 sending: UNKNOWN, it may or may not have been applied;
//   unreachable   not connected (refused, lost, backing off): not applied;
//   unauthorized, protocol_mismatch   the handshake failed: not applied;
//   overloaded, shutting_down, value_too_large (remote limits): not applied;
//   anything else is the engine's own answer (engine.hpp); of those,
//   hot_unavailable, hot_error, cold_unavailable, cold_error and internal
//   may have been applied too (may_have_been_applied, errors.hpp).
// Every call is bounded (request_timeout). After a lost connection the next
// call reconnects; failed attempts back off exponentially (with jitter) up
// to backoff_max, and calls in between fail at once with unreachable.
// Calls may come from several threads; they share one connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"
#include "runtime/node/config.hpp"
#include "runtime/node/node_settings.hpp"
#include "runtime/node/session_store.hpp"

namespace authstore {

/// How a remote_client connects and how long it waits.
struct remote_options {
  /// The shared secret (runtime/remote/auth.hpp load_secret); empty for a
  /// server started with --insecure-no-auth.
  std::string secret;
  /// Bound on one request, after which its outcome is unknown.
  std::chrono::milliseconds request_timeout{6000};
  /// Bound on connecting and authenticating.
  std::chrono::milliseconds handshake_timeout{3000};
  /// Middleman heartbeat interval towards the server.
  std::chrono::milliseconds heartbeat{1000};
  /// A server silent for this long (frozen, cut off) is dropped, and the
  /// requests pending on it fail with timeout.
  std::chrono::milliseconds connection_timeout{5000};
  /// First and longest wait between failed reconnect attempts.
  std::chrono::milliseconds backoff_min{100};
  std::chrono::milliseconds backoff_max{5000};
  /// Limits set_json parses a patch with (the server checks its own too).
  patch_limits limits;
  /// Scheduler threads of the client's actor system.
  size_t threads = 2;
  /// The protocol version sent in the hello. Only tests change it.
  uint32_t protocol_version;
  /// TLS towards the server (remote.tls-*): this client's certificate and
  /// key, and the CA that must have signed the server's certificate. All
  /// empty: plain TCP. Must match the server: a TLS client and a plain
  /// server (or the reverse) refuse each other with unreachable.
  tls_files tls;

  remote_options();

  /// Reads remote.* and codec.* settings, loads the secret
  /// (remote.secret-file, else AUTHSTORE_SECRET) and checks the TLS files
  /// (check_tls_files). Errors: invalid_config.
  static outcome<remote_options> from(const settings& s);
};

/// A connection to `authstore serve`.
class remote_client : public session_store {
public:
  /// Checks opts.tls (invalid_config; before any thread starts), connects
  /// (over TLS when opts.tls is on) and authenticates. Errors:
  /// invalid_config, unreachable (also: TLS refused or only one side uses
  /// TLS), unauthorized, protocol_mismatch, overloaded, shutting_down.
  static outcome<std::unique_ptr<remote_client>>
  connect(const std::string& host, uint16_t port, remote_options opts);

  /// Closes the connection. No call may be running in another thread.
  ~remote_client();

  remote_client(const remote_client&) = delete;
  remote_client& operator=(const remote_client&) = delete;

  // The session_store operations: their contract is documented once, in
  // runtime/node/session_store.hpp; here each is one request to the server
  // (its Redis acknowledges writes).
  outcome<uint64_t> set(const std::string& sid, patch p) override;
  outcome<creds_reply> get_creds(const std::string& sid) override;
  outcome<keys_reply> get_keys(const std::string& sid, const std::string& type,
                               const std::vector<std::string>& ids) override;
  outcome<bool> del(const std::string& sid) override;
  outcome<bool> touch(const std::string& sid) override;
  outcome<bool> exists(const std::string& sid) override;
  outcome<session_snapshot> read_session(const std::string& sid) override;
  outcome<session_page> list_sessions(const std::string& cursor,
                                      uint32_t count) override;

  /// Whether a session with the server is up right now.
  bool connected() const;

  /// "host:port" as given to connect.
  const std::string& endpoint() const;

  const patch_limits& limits() const override;

  /// Whether a failed call may still have been applied (errors.hpp's
  /// may_have_been_applied: timeout, or a backend error whose outcome is
  /// unknown): read before retrying a non-idempotent write.
  static bool may_have_been_applied(const failure& f);

  struct impl;
  impl& internals() { return *impl_; }

private:
  explicit remote_client(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

/// Splits "host:port" or "[v6-address]:port". Errors: invalid_argument.
outcome<std::pair<std::string, uint16_t>>
parse_endpoint(const std::string& text);

} // namespace authstore
