// api_errors.hpp -- how the HTTP API reports an error (docs/HTTP-API.md,
// Errors): one table from errc to status, and the JSON error object
//
//   {"error": token, "message": one line for people, "retryable": bool,
//    "may_have_applied": bool, ...extra}
//
// Why one table: the status is what an HTTP client branches on, and a
// backend failure must never look like "not found" (invariant 4): no errc
// maps to 404; only a successful read of nothing does (api_bodies.hpp).
// Tokens are errc's own (to_string) or the HTTP API's (bad_json, no_route,
// not_found, method_not_allowed, body_too_large, headers_too_large,
// not_implemented, bad_request). Messages never carry values or secrets:
// they are the engine's details, which are value-free by design
// (tests/redis/canary_redistest.cpp). CAF-free.
#pragma once

#include <string>

#include "messages/codec.hpp"
#include "messages/errors.hpp"
#include "runtime/http/http_message.hpp"

namespace authstore {

/// An error reply before rendering.
struct api_error {
  int status = 500;
  std::string token;
  std::string message;
  bool retryable = false;
  bool may_have_applied = false;
  /// Further members of the error object (e.g. current_version).
  json extra = json::object();
  /// Further header fields (e.g. Allow on a 405).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// The status of an engine error and whether a retry may succeed.
struct errc_status {
  int status = 500;
  bool retryable = false;
};

/// The one table: errc -> status (400 bad input, 401, 409, 429, 503 backend
/// down, 504 timeout, 500 the rest).
errc_status status_of(errc code);

/// The reply to a failed engine operation. `is_write`: the operation
/// changes state (write, delete, touch), so an unknown outcome (timeout,
/// hot_unavailable, hot_error: the engine's "may or may not have been
/// applied") sets may_have_applied. version_conflict carries
/// current_version when the engine's detail names it.
api_error from_failure(const failure& f, bool is_write);

/// An error of the HTTP layer itself (never applied, not retryable unless
/// the status is 429, 503 or 504).
api_error http_error(int status, std::string token, std::string message);

/// The JSON reply of `e`; 401 adds `WWW-Authenticate: Bearer`.
http_reply to_reply(const api_error& e);

} // namespace authstore
