// endpoint.hpp -- a node's HTTP front door, from its settings: the HTTP API
// (api.port; `authstore serve` only) and the ops endpoint (/metrics,
// /healthz, /readyz on http.port), on one server (http_server.hpp) with
// one listener each, or one listener for both when the ports are equal.
//
//   listeners --(I/O thread)--> api_service (auth, routes) --> api_bridge
//     (actors in the engine's system) --> router --> sessions
//
// Who starts it: the front doors (`authstore serve`, `authstore sim`) and
// tests, after the engine; destroy (or stop) it before the engine. TLS:
// the API listener is HTTPS with the remote.tls-* files when they are set
// (the caller checked them with check_tls_files); a separate ops listener
// stays plain HTTP (Prometheus scrapes on loopback). CAF-free header.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "messages/errors.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/node/auth_limiter.hpp"
#include "runtime/node/config.hpp"

namespace authstore {

class engine;
class api_bridge;

/// What the front door serves, from the settings.
struct http_front_config {
  /// Serve the API (api.port set).
  bool api = false;
  std::string api_bind = "127.0.0.1";
  uint16_t api_port = 0;
  /// 0: no ops endpoint (unless the API serves it on its own port).
  uint16_t ops_port = 0;
  std::string ops_bind = "127.0.0.1";
  /// The bearer secret (empty: no authentication; the caller allows that
  /// only on a loopback api.bind).
  std::string secret;
  /// A second bearer secret accepted too (during a rotation; "" = none).
  std::string previous_secret;
  /// Failed authentication per client address (auth.*).
  auth_limiter::config auth_limit;
  tls_files tls;
  bool require_client_cert = true;
  http_limits limits;

  /// Reads api.*, http.* and remote.tls-*; `with_api`: serve (the API
  /// exists only there). The secret is the caller's.
  static http_front_config from(const settings& s, bool with_api);
};

class http_front {
public:
  /// Binds the listeners and spawns the bridge. Errors: invalid_config.
  static outcome<std::unique_ptr<http_front>>
  start(engine& e, const http_front_config& cfg);

  /// Stops as stop(0) unless stopped.
  ~http_front();

  /// "ADDR:PORT" of the API ("" when off).
  std::string api_endpoint() const;
  /// The API's port (0 when off).
  uint16_t api_port() const;
  /// The ops endpoint's port (0 when off; the API's when they share one).
  uint16_t ops_port() const;

  /// Closes the listeners, answers what is in flight within `drain`, stops
  /// the bridge. Idempotent.
  void stop(std::chrono::milliseconds drain);

private:
  http_front() = default;
  std::shared_ptr<api_bridge> bridge_;
  std::unique_ptr<http_server> server_;
  int api_index_ = -1;
  int ops_index_ = -1;
};

/// The ops endpoint alone (http.port > 0), or null when http.port is 0:
/// `authstore sim` and tests. Errors: invalid_config.
outcome<std::unique_ptr<http_front>> start_ops_http(engine& e);

} // namespace authstore
