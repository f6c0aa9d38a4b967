// http_connection.cpp -- one HTTP/1.1 connection (http_server.hpp): read a
// head, decide, read the body, hand the request on, write replies in
// request order; timeouts and the lingering close.
//
//   [TLS handshake] -> wait for a first byte (idle deadline)
//     -> head (read deadline from here) -> handler.on_head: refuse now?
//     -> body (same deadline; 413 past the limit) -> admit (429) ->
//        handler.on_request -> next head at once (pipelining)
//   replies: a queue of slots in request order; a slot is filled when its
//   responder answers; the ready front of the queue is written in one
//   gather write.
//
// Reading pauses while the queue holds 2 x api.max-in-flight-per-connection
// slots (a client that pipelines without reading its replies), so a
// connection's memory stays bounded. Everything runs on the I/O thread.
//
// Longer than the house's ~400 lines on purpose: it is one state machine
// (one class template over the plain and the TLS stream), and its read,
// reply-queue and close paths depend on each other's flags; split across
// files they would be harder to check against each other.
#include "runtime/http/http_server_impl.hpp"

#include <deque>
#include <limits>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "runtime/http/api_errors.hpp"

namespace authstore::http_detail {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;

/// How long a closing connection reads and discards what the client still
/// sends, so that it reads our last reply instead of a TCP reset (what
/// nginx calls a lingering close).
constexpr std::chrono::milliseconds linger_time{1000};

/// Bytes asked of one read.
constexpr size_t read_chunk = 16384;

/// Deadlines. A generation number makes a timer that fired just before it
/// was re-armed harmless.
struct deadline {
  explicit deadline(asio::io_context& ioc) : timer(ioc) {}
  asio::steady_timer timer;
  uint64_t generation = 0;
};

/// One reply slot, in request order.
struct slot {
  bool ready = false;
  /// The connection ends after this reply.
  bool close = false;
  /// The client spoke HTTP/1.0 and asked for keep-alive.
  bool keep_alive_header = false;
  std::string bytes;
};

template <class Stream>
class connection final
    : public connection_base,
      public std::enable_shared_from_this<connection<Stream>> {
public:
  connection(core& c, std::shared_ptr<http_handler> h, Stream s)
      : core_(c), handler_(std::move(h)), stream_(std::move(s)),
        read_deadline_(c.ioc), write_deadline_(c.ioc) {
    error_code ec;
    auto ep = beast::get_lowest_layer(stream_).remote_endpoint(ec);
    if (!ec)
      peer_ = ep.address().to_string();
  }

  void start(bool tls) {
    core_.connections.push_front(this->weak_from_this());
    registered_ = core_.connections.begin();
    ++core_.open_connections;
    core_.counters->open_connections.fetch_add(1, std::memory_order_relaxed);
    core_.counters->accepted.fetch_add(1, std::memory_order_relaxed);
    if (!tls) {
      read_next();
      return;
    }
    arm(read_deadline_, core_.limits.read_timeout, api_drop::tls_handshake);
    handshake();
  }

  void complete(uint64_t seq, http_reply r) override {
    if (closed_ || seq < front_seq_ || seq - front_seq_ >= queue_.size())
      return;
    auto& s = queue_[seq - front_seq_];
    if (s.ready)
      return;
    s.bytes = serialize(r, s.close, s.keep_alive_header);
    s.ready = true;
    --pending_;
    write_ready();
  }

  /// Runs on the I/O thread or inside ~io_context (connection lifetime:
  /// http_server_impl.hpp), never elsewhere.
  ~connection() override {
    if (!closed_)
      forget();
  }

  void close_now() override {
    if (closed_)
      return;
    disarm(read_deadline_);
    disarm(write_deadline_);
    error_code ec;
    beast::get_lowest_layer(stream_).close(ec);
    forget();
  }

  bool idle() const override { return closed_ || queue_.empty(); }

private:
  using self_ptr = std::shared_ptr<connection>;

  /// Off the registry and the open-connections count.
  void forget() {
    closed_ = true;
    core_.connections.erase(registered_);
    --core_.open_connections;
    core_.counters->open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  self_ptr self() { return this->shared_from_this(); }

  // -- deadlines ----------------------------------------------------------

  /// Closes the connection after `after` unless re-armed or disarmed;
  /// counts `reason` (none: an expected end, the lingering close).
  void arm(deadline& d, std::chrono::milliseconds after,
           std::optional<api_drop> reason) {
    auto gen = ++d.generation;
    d.timer.expires_after(after);
    d.timer.async_wait([this, s = self(), &d, gen, reason](error_code ec) {
      if (ec || gen != d.generation || closed_)
        return;
      if (reason)
        core_.counters->dropped[static_cast<size_t>(*reason)].fetch_add(
          1, std::memory_order_relaxed);
      close_now();
    });
  }

  void disarm(deadline& d) {
    ++d.generation;
    d.timer.cancel();
  }

  // -- reading ------------------------------------------------------------

  void handshake();

  void read_next() {
    if (closed_ || no_more_requests_)
      return;
    if (queue_.size() >= 2 * core_.limits.max_in_flight_per_connection) {
      paused_ = true;
      return;
    }
    head_.emplace();
    head_->header_limit(
      static_cast<std::uint32_t>(core_.limits.max_header_bytes));
    // Beast's own default (1 MiB) would refuse a larger Content-Length at
    // the header; on_head applies api.max-body-bytes itself, with a 413.
    // Not boost::none: Beast 1.74 compares `len > body_limit_` as
    // optionals, and every length is greater than none.
    head_->body_limit(std::numeric_limits<std::uint64_t>::max());
    if (buffer_.size() > 0) {
      read_head();
      return;
    }
    // Between requests only the idle deadline runs; the read deadline
    // starts with the request's first byte.
    arm(read_deadline_, core_.limits.idle_timeout, api_drop::idle_timeout);
    stream_.async_read_some(buffer_.prepare(read_chunk),
                            [this, s = self()](error_code ec, size_t n) {
                              if (closed_)
                                return;
                              if (ec) {
                                close_now(); // the client went away
                                return;
                              }
                              buffer_.commit(n);
                              read_head();
                            });
  }

  void read_head() {
    arm(read_deadline_, core_.limits.read_timeout, api_drop::read_timeout);
    http::async_read_header(
      stream_, buffer_, *head_,
      [this, s = self()](error_code ec, size_t) { on_head(ec); });
  }

  void on_head(error_code ec) {
    if (closed_)
      return;
    target_.clear();
    if (ec == http::error::body_limit) { // cannot happen: no limit set
      refuse(413, "body_too_large", "the body is too large");
      return;
    }
    if (ec == http::error::header_limit) {
      refuse(431, "headers_too_large",
             "the request line and headers exceed api.max-header-bytes");
      return;
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof
        || ec == asio::error::operation_aborted
        || ec == http::error::partial_message
        || ec == asio::error::connection_reset) {
      close_now();
      return;
    }
    if (ec) {
      refuse(400, "bad_request", "malformed HTTP request: " + ec.message());
      return;
    }
    const auto& req = head_->get();
    http_head h;
    h.method = std::string{req.method_string()};
    h.target = std::string{req.target()};
    h.authorization = std::string{req[http::field::authorization]};
    h.peer = peer_;
    auto length = head_->content_length();
    h.has_body = head_->chunked() || (length && *length > 0);
    target_ = h.target;
    if (length && *length > core_.limits.max_body_bytes) {
      refuse(413, "body_too_large",
             "the body exceeds api.max-body-bytes ("
               + std::to_string(core_.limits.max_body_bytes)
               + " bytes); nothing was read or applied");
      return;
    }
    if (auto early = handler_->on_head(h)) {
      // A body still unread would have to be read to keep the connection;
      // a refused client does not get that. Without one, the connection
      // goes on as the client asked (HTTP/1.0 or Connection: close ends it).
      bool keep_alive = req.keep_alive();
      if (h.has_body)
        push_ready(std::move(*early), true, api_drop::rejected);
      else
        push_ready(std::move(*early), !keep_alive, std::nullopt,
                   keep_alive && req.version() < 11);
      if (!h.has_body && keep_alive)
        read_next();
      return;
    }
    auto expect = req[http::field::expect];
    if (h.has_body && beast::iequals(expect, "100-continue"))
      push_raw("HTTP/1.1 100 Continue\r\n\r\n");
    body_.emplace(std::move(*head_));
    head_.reset();
    body_->body_limit(core_.limits.max_body_bytes);
    http::async_read(
      stream_, buffer_, *body_,
      [this, s = self()](error_code ec, size_t) { on_body(ec); });
  }

  void on_body(error_code ec) {
    if (closed_)
      return;
    if (ec == http::error::body_limit) {
      refuse(413, "body_too_large",
             "the body exceeds api.max-body-bytes ("
               + std::to_string(core_.limits.max_body_bytes)
               + " bytes); nothing was applied");
      return;
    }
    if (ec) {
      close_now();
      return;
    }
    disarm(read_deadline_);
    auto msg = body_->release();
    body_.reset();
    bool keep_alive = msg.keep_alive();
    bool http10 = msg.version() < 11;
    if (!keep_alive)
      no_more_requests_ = true;
    http_request req{std::string{msg.method_string()},
                     std::string{msg.target()}, std::move(msg.body())};
    dispatch(std::move(req), !keep_alive, http10 && keep_alive);
    read_next();
  }

  /// Admits a complete request (429 past a bound, 503 while stopping) and
  /// hands it to the handler.
  void dispatch(http_request req, bool close, bool keep_alive_header) {
    auto refuse_now = [&](int status, const char* token, std::string why) {
      handler_->on_server_reply(&req.target, status);
      auto seq = push_slot(close, keep_alive_header);
      complete_refusal(seq,
                       to_reply(http_error(status, token, std::move(why))));
    };
    if (core_.draining) {
      refuse_now(503, "shutting_down",
                 "the node is shutting down; the request was not applied");
      return;
    }
    if (pending_ >= core_.limits.max_in_flight_per_connection) {
      refuse_now(429, "overloaded",
                 "too many requests in flight on this connection "
                 "(api.max-in-flight-per-connection); not applied");
      return;
    }
    if (!core_.try_acquire()) {
      refuse_now(429, "overloaded",
                 "too many requests in flight on this node "
                 "(api.max-in-flight); not applied");
      return;
    }
    auto seq = push_slot(close, keep_alive_header);
    ++pending_;
    auto st
      = std::make_shared<http_responder::state>(core_shared(), self(), seq);
    handler_->on_request(std::move(req), http_responder{std::move(st)});
  }

  /// The core for responders, which keep it (and its io_context) alive.
  std::shared_ptr<core> core_shared() { return core_.shared_from_this(); }

  // -- the reply queue ----------------------------------------------------

  uint64_t push_slot(bool close, bool keep_alive_header) {
    slot s;
    s.close = close;
    s.keep_alive_header = keep_alive_header;
    queue_.push_back(std::move(s));
    return front_seq_ + queue_.size() - 1;
  }

  void complete_refusal(uint64_t seq, http_reply r) {
    ++pending_; // complete() counts it back
    complete(seq, std::move(r));
  }

  /// A reply ready now; `close` ends the connection after it, counted
  /// as `reason` (none: the client asked for the end).
  void push_ready(http_reply r, bool close, std::optional<api_drop> reason,
                  bool keep_alive_header = false) {
    if (close) {
      no_more_requests_ = true;
      disarm(read_deadline_);
      if (reason)
        core_.counters->dropped[static_cast<size_t>(*reason)].fetch_add(
          1, std::memory_order_relaxed);
    }
    auto seq = push_slot(close, keep_alive_header);
    complete_refusal(seq, std::move(r));
  }

  /// Interim bytes (100 Continue), in order with the replies.
  void push_raw(std::string bytes) {
    slot s;
    s.ready = true;
    s.bytes = std::move(bytes);
    queue_.push_back(std::move(s));
    write_ready();
  }

  /// A reply the server makes itself, ending the connection.
  void refuse(int status, const char* token, std::string why) {
    handler_->on_server_reply(target_.empty() ? nullptr : &target_, status);
    push_ready(to_reply(http_error(status, token, std::move(why))), true,
               api_drop::rejected);
  }

  // -- writing ------------------------------------------------------------

  void write_ready() {
    if (writing_ || closed_ || closing_)
      return;
    std::vector<asio::const_buffer> out;
    size_t n = 0;
    for (auto& s : queue_) {
      if (!s.ready)
        break;
      out.emplace_back(asio::buffer(s.bytes));
      ++n;
      if (s.close)
        break;
    }
    if (n == 0) {
      if (queue_.empty() && no_more_requests_ && !reading_body())
        linger();
      return;
    }
    writing_ = true;
    arm(write_deadline_, core_.limits.read_timeout, api_drop::read_timeout);
    asio::async_write(
      stream_, out,
      [this, s = self(), n](error_code ec, size_t) { on_written(ec, n); });
  }

  void on_written(error_code ec, size_t n) {
    writing_ = false;
    if (closed_)
      return;
    disarm(write_deadline_);
    if (ec) {
      close_now();
      return;
    }
    bool close = false;
    for (size_t i = 0; i < n; ++i) {
      close = close || queue_.front().close;
      queue_.pop_front();
      ++front_seq_;
    }
    if (close) {
      linger();
      return;
    }
    if (paused_ && queue_.size() < core_.limits.max_in_flight_per_connection) {
      paused_ = false;
      read_next();
    }
    write_ready();
  }

  bool reading_body() const { return body_.has_value(); }

  /// Ends the connection after its last reply: stop sending, read and
  /// discard for linger_time, close.
  void linger();

  core& core_;
  std::shared_ptr<http_handler> handler_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> head_;
  std::optional<http::request_parser<http::string_body>> body_;
  deadline read_deadline_;
  deadline write_deadline_;
  std::deque<slot> queue_;
  /// The sequence number of queue_.front().
  uint64_t front_seq_ = 0;
  /// Requests handed on (or refused) and not answered yet.
  size_t pending_ = 0;
  /// The target of the request being read (for on_server_reply).
  std::string target_;
  std::list<std::weak_ptr<connection_base>>::iterator registered_;
  std::array<char, 4096> discard_{};
  bool writing_ = false;
  /// The client's address, read once at accept.
  std::string peer_;
  bool paused_ = false;
  bool no_more_requests_ = false;
  bool closing_ = false;
  bool closed_ = false;
};

// -- per stream type ----------------------------------------------------------

using plain_stream = tcp::socket;
using tls_stream = beast::ssl_stream<tcp::socket>;

template <>
void connection<plain_stream>::handshake() {
  read_next();
}

template <>
void connection<tls_stream>::handshake() {
  stream_.async_handshake(
    asio::ssl::stream_base::server, [this, s = self()](error_code ec) {
      if (closed_)
        return;
      if (ec) {
        core_.counters->dropped[static_cast<size_t>(api_drop::tls_handshake)]
          .fetch_add(1, std::memory_order_relaxed);
        close_now();
        return;
      }
      disarm(read_deadline_);
      read_next();
    });
}

template <>
void connection<plain_stream>::linger() {
  if (closing_ || closed_)
    return;
  closing_ = true;
  error_code ec;
  stream_.shutdown(tcp::socket::shutdown_send, ec);
  arm(read_deadline_, linger_time, std::nullopt);
  // Read until the client closes (or the deadline); the data is dropped.
  struct drain {
    connection* c;
    std::shared_ptr<connection> keep;
    void operator()(error_code ec, size_t) {
      if (c->closed_)
        return;
      if (ec) {
        c->close_now();
        return;
      }
      c->stream_.async_read_some(asio::buffer(c->discard_), std::move(*this));
    }
  };
  drain{this, self()}(error_code{}, 0);
}

template <>
void connection<tls_stream>::linger() {
  if (closing_ || closed_)
    return;
  closing_ = true;
  arm(read_deadline_, linger_time, std::nullopt);
  stream_.async_shutdown([this, s = self()](error_code) { close_now(); });
}

} // namespace

void start_connection(core& c, std::shared_ptr<http_handler> h,
                      asio::ssl::context* tls, tcp::socket s) {
  // Without it a reply waits for the client's delayed ACK (~40 ms).
  error_code ec;
  s.set_option(tcp::no_delay(true), ec);
  if (tls) {
    auto conn = std::make_shared<connection<tls_stream>>(
      c, std::move(h), tls_stream{std::move(s), *tls});
    conn->start(true);
  } else {
    auto conn = std::make_shared<connection<plain_stream>>(c, std::move(h),
                                                           std::move(s));
    conn->start(false);
  }
}

} // namespace authstore::http_detail
