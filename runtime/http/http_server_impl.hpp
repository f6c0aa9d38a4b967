// http_server_impl.hpp -- what http_server.cpp and http_connection.cpp
// share: the server's core and the connection's interface. Private to
// runtime/http/ (it includes Asio).
//
// Lifetime: the core owns the io_context. A connection is owned by its
// pending operations' handlers and by the responders of its requests
// waiting for the engine (the core's registry holds it weakly); it keeps a
// plain pointer to the core. A responder keeps the core alive (it may
// outlive the http_server, e.g. inside an actor that answers late) and
// hands its connection to the handler it posts, so a connection is always
// released on the I/O thread (or with the io_context): posting to a
// stopped io_context only queues a handler that never runs and is
// destroyed with it.
#pragma once

#include <atomic>
#include <list>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "runtime/http/http_server.hpp"

namespace authstore::http_detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/// A connection as the core and the responders see it (I/O thread only).
class connection_base {
public:
  virtual ~connection_base() = default;
  /// The reply to the request with sequence number `seq`.
  virtual void complete(uint64_t seq, http_reply r) = 0;
  /// Closes the socket now (stop, or a timeout).
  virtual void close_now() = 0;
  /// Whether nothing is owed: no request waiting for its reply, no reply
  /// unwritten (stop waits for this).
  virtual bool idle() const = 0;
};

/// What the listeners, connections and responders of one server share.
struct core : std::enable_shared_from_this<core> {
  core(const http_limits& l, api_counters& c) : limits(l), counters(&c) {}

  const http_limits limits;
  api_counters* const counters;
  /// Requests handed to a handler and not answered yet (all connections).
  std::atomic<size_t> in_flight{0};
  // -- I/O thread only ----------------------------------------------------
  size_t open_connections = 0;
  /// Set by stop: new requests are answered 503 shutting_down.
  bool draining = false;
  std::list<std::weak_ptr<connection_base>> connections;
  /// Declared last, so destroyed first: the handlers it still holds (and
  /// the connections in them) go while the members above are alive.
  asio::io_context ioc{1};

  /// Takes one of api.max-in-flight; false when all are taken.
  bool try_acquire();
  /// Gives one back (any thread).
  void release();
};

/// Starts serving an accepted socket (I/O thread); `tls` null: plain HTTP.
void start_connection(core& c, std::shared_ptr<http_handler> h,
                      asio::ssl::context* tls, tcp::socket s);

/// `r` as HTTP/1.1 response bytes. `close` adds `Connection: close`,
/// `keep_alive` (an HTTP/1.0 client that asked for it) `Connection:
/// keep-alive`.
std::string serialize(const http_reply& r, bool close, bool keep_alive);

} // namespace authstore::http_detail

namespace authstore {

/// One request's answer: where it goes, and whether it was sent.
struct http_responder::state {
  state(std::shared_ptr<http_detail::core> c,
        std::shared_ptr<http_detail::connection_base> w, uint64_t s)
      : core(std::move(c)), conn(std::move(w)), seq(s) {}
  /// Answers 500 internal when no copy of the responder ever did.
  ~state();
  void send(http_reply r);

  std::shared_ptr<http_detail::core> core;
  /// Moved into the posted handler by send().
  std::shared_ptr<http_detail::connection_base> conn;
  uint64_t seq;
  std::atomic<bool> done{false};
};

} // namespace authstore
