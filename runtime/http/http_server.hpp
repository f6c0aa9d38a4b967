// http_server.hpp -- the one HTTP/1.1 server of a node: the HTTP API and
// the ops endpoint (/metrics, /healthz, /readyz) run on it, on one or two
// listeners (runtime/http/endpoint.hpp).
//
// Built on Boost.Beast 1.74 (Debian 12), because the contract
// (docs/HTTP-API.md) needs what Beast does naturally and RESTinio 0.6.16
// cannot: a handler sees the headers before the body is read, so the
// bearer secret is checked, and an oversized Content-Length refused with
// 413, before a byte of the body is consumed; oversized headers get a 431
// reply instead of a closed socket. The evidence is in docs/HTTP-API.md,
// "Why Beast".
//
// Threads: one I/O thread runs every listener and connection; handlers
// (http_handler) are called on it and must not block. A request is
// answered through its http_responder, from any thread (the engine's
// actors answer from theirs): the reply is posted back to the I/O thread
// and written in request order, so pipelined requests get their responses
// in the order they were sent, while later requests are already read and
// handed on (up to api.max-in-flight-per-connection; beyond it, and beyond
// api.max-in-flight for the node, 429 overloaded, not applied).
//
// Protection: header and body limits (431, 413), a read deadline for a
// whole request from its first byte (a slowloris client is dropped after
// api.read-timeout-ms), an idle deadline between requests, a connection
// cap at accept, TCP_NODELAY, TLS (with optional client certificates) when
// the listener has remote.tls-* files. Replies that end a connection
// (413, 431, 400, an early refusal before an unread body) are followed by
// a lingering close, so the client reads the reply instead of a reset.
//
// Lifecycle: start() binds every listener (errors: invalid_config naming
// the address) and starts the thread; stop(drain) closes the listeners,
// answers new requests with 503 shutting_down, waits up to `drain` for the
// requests in flight, then closes every connection and joins the thread.
// A responder called after that does nothing. CAF-free and Beast-free
// header.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "observe/engine_counters.hpp"
#include "runtime/http/http_message.hpp"
#include "runtime/node/node_settings.hpp"

namespace authstore {

/// Answers one request. Copies share one answer: the first call sends the
/// reply, later calls do nothing. Thread-safe. If no copy is ever called,
/// the request is answered 500 internal when the last copy is destroyed (a
/// request is never left hanging on its connection).
class http_responder {
public:
  struct state;
  explicit http_responder(std::shared_ptr<state> s) : state_(std::move(s)) {}

  void operator()(http_reply r) const;

private:
  std::shared_ptr<state> state_;
};

/// What a listener does with requests. Called on the I/O thread only.
class http_handler {
public:
  virtual ~http_handler() = default;

  /// After the headers, before the body: a reply sends it at once (and
  /// closes the connection when a body is still unread); nullopt reads
  /// the body.
  virtual std::optional<http_reply> on_head(const http_head& head) = 0;

  /// A complete request; `respond` must be called, from any thread.
  virtual void on_request(http_request req, http_responder respond) = 0;

  /// A reply the server made itself (400, 413, 429, 431, 503 while
  /// stopping), for metrics; `target` is null when unknown.
  virtual void on_server_reply(const std::string* target, int status) = 0;
};

/// Bounds of every listener of one server (api.* settings).
struct http_limits {
  size_t max_header_bytes = 16u << 10;
  uint64_t max_body_bytes = 16u << 20;
  size_t max_connections = 1024;
  size_t max_in_flight_per_connection = 64;
  size_t max_in_flight = 4096;
  std::chrono::milliseconds read_timeout{10000};
  std::chrono::milliseconds idle_timeout{60000};
};

/// One address to listen on.
struct http_listener {
  std::string bind = "127.0.0.1";
  /// 0: the OS picks (see http_server::port).
  uint16_t port = 0;
  /// Set: HTTPS with these files (checked with check_tls_files first).
  tls_files tls;
  /// With tls: clients must present a certificate signed by tls.ca.
  bool require_client_cert = true;
  std::shared_ptr<http_handler> handler;
};

class http_server {
public:
  /// Binds every listener and starts the I/O thread. Errors:
  /// invalid_config (an address that cannot be bound or parsed, TLS files
  /// OpenSSL refuses).
  static outcome<std::unique_ptr<http_server>>
  start(std::vector<http_listener> listeners, const http_limits& limits,
        api_counters& counters);

  /// stop(0) if stop was not called.
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The port listener `i` is bound to.
  uint16_t port(size_t i) const;

  /// "ADDR:PORT" ("[ADDR]:PORT" for IPv6) of listener `i`.
  std::string endpoint(size_t i) const;

  /// See the file comment. Idempotent.
  void stop(std::chrono::milliseconds drain);

  struct impl;

private:
  explicit http_server(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
