// api_service.hpp -- what a listener of the HTTP front door does with a
// request (docs/HTTP-API.md): authenticate, route, answer what needs no
// engine, hand the rest to the bridge (api_bridge.hpp), count everything.
//
// Auth: `Authorization: Bearer <secret>`, compared in constant time
// (runtime/node/secret_compare.hpp), checked in on_head, before the body
// is read, and before routing, so that an unauthenticated client learns
// nothing about routes or ids (it gets 401 for every /v1/ path but
// /v1/health). With an empty secret (serve's --insecure-no-auth on a
// loopback address) the header is ignored. The ops routes need no secret.
//
// Routes not built in this phase answer 501 not_implemented: listing a
// type's key ids (GET .../keys/{type}) and the lease routes; a write
// carrying `lease` too (api_bodies.hpp). Runs on the HTTP I/O thread and
// never blocks: the bridge is an anon_send. CAF-free.
#pragma once

#include <memory>
#include <string>

#include "observe/engine_counters.hpp"
#include "runtime/http/api_bridge.hpp"
#include "runtime/http/api_routes.hpp"
#include "runtime/http/http_server.hpp"
#include "runtime/node/auth_limiter.hpp"

namespace authstore {

/// What one listener serves.
struct api_service_config {
  /// A listener with `secret_` (and the routes it serves); the rest is set
  /// by name. A constructor, not an aggregate, so that the two-value form
  /// every caller uses stays valid as members are added.
  api_service_config(std::string secret_ = {}, route_set routes_ = {})
      : secret(std::move(secret_)), routes(routes_) {}
  /// The bearer secret; empty: no authentication (loopback only, checked
  /// by the caller).
  std::string secret;
  route_set routes;
  /// A second secret accepted too (the second line of remote.secret-file,
  /// during a rotation); empty: none.
  std::string previous_secret;
  /// Failed authentication per client address (null: no limit); a client
  /// over it is answered 429 auth_rate_limited without a secret check.
  std::shared_ptr<auth_limiter> limiter;
  /// Where failures and refusals are counted (may be null).
  security_counters* security = nullptr;
};

class api_service : public http_handler {
public:
  api_service(api_service_config cfg, std::shared_ptr<api_bridge> bridge,
              api_counters& counters);

  std::optional<http_reply> on_head(const http_head& head) override;
  void on_request(http_request req, http_responder respond) override;
  void on_server_reply(const std::string* target, int status) override;

  /// Whether `authorization` (the header's value) carries the secret (or
  /// the previous one).
  bool authorized(const std::string& authorization) const;

private:
  /// The limit, then the secret: a refusal to send, or none.
  std::optional<http_reply> check_auth(const http_head& head, api_route route);

  api_service_config cfg_;
  std::shared_ptr<api_bridge> bridge_;
  api_counters& counters_;
};

} // namespace authstore
