// api_routes.hpp -- the route table of the HTTP API and the ops endpoint
// (docs/HTTP-API.md, Routes): method + target -> route and its decoded,
// validated path parameters.
//
// Path parameters (session id, key type) are split on '/' first and then
// percent-decoded exactly once, so an encoded slash (%2F) stays inside its
// segment and then fails the allow-list, as does an encoded brace (%7B)
// or a double encoding (%252F decodes to "%2F"; '%' is not allowed).
// Session ids are checked with messages/session_id.hpp and key types with
// validate_key_type before anything reaches the engine. CAF-free.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "observe/engine_counters.hpp"
#include "runtime/http/api_errors.hpp"

namespace authstore {

/// Which routes a listener serves: the API (/v1/...), the ops endpoint
/// (/metrics, /healthz, /readyz), or both on one port.
struct route_set {
  bool api = true;
  bool ops = false;
};

/// A request target matched against the route table.
struct route_match {
  api_route route = api_route::unknown;
  /// The session id, percent-decoded once and allow-listed.
  std::string sid;
  /// The key type (read_keys, list_keys), decoded and validated.
  std::string type;
  /// Set when nothing can be served: 404 no_route, 405
  /// method_not_allowed (with Allow), 400 invalid_session_id or
  /// invalid_argument (a bad key type or percent escape).
  std::optional<api_error> error;
};

/// Matches `method` and `target` (path and optional query, as sent).
route_match match_route(std::string_view method, std::string_view target,
                        route_set routes);

/// Whether a request for `target` must carry the bearer secret: every
/// /v1/ path except /v1/health. The ops paths need none (they carry no
/// session data). Decided on the raw path, before matching, so that an
/// unauthenticated client learns nothing about routes or ids.
bool needs_auth(std::string_view target);

/// Whether a route changes state (its unknown outcomes are
/// may_have_applied).
bool is_write(api_route r);

/// Percent-decodes `s` once. Errors: invalid_argument for a '%' not
/// followed by two hex digits.
outcome<std::string> percent_decode(std::string_view s);

} // namespace authstore
