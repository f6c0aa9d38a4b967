// http_message.hpp -- what the HTTP server (http_server.hpp) hands to its
// handlers and takes back: a request's head, the whole request, a reply.
//
// Plain structs, free of Beast and CAF, so that routing, auth and rendering
// (api_routes, api_bodies, api_service) compile and are unit-tested without
// either library.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace authstore {

/// A request's head, as soon as its headers are in (before its body).
struct http_head {
  std::string method;
  /// The request target as sent (path and query, still percent-encoded).
  std::string target;
  /// The Authorization header ("" when absent).
  std::string authorization;
  /// Whether a body follows (Content-Length > 0 or chunked).
  bool has_body = false;
  /// The client's IP address as text ("" when unknown), the key of the
  /// failed-authentication limit (runtime/node/auth_limiter.hpp).
  std::string peer;
};

/// A complete request.
struct http_request {
  std::string method;
  std::string target;
  std::string body;
};

/// A reply. The server adds Content-Length and Connection.
struct http_reply {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  /// Further header fields, e.g. WWW-Authenticate or Allow.
  std::vector<std::pair<std::string, std::string>> headers;
};

} // namespace authstore
