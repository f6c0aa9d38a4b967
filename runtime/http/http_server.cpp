// http_server.cpp -- listeners, the I/O thread, responders and stopping
// (http_server.hpp). One connection's protocol is in http_connection.cpp.
#include "runtime/http/http_server.hpp"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/status.hpp>

#include "runtime/http/api_errors.hpp"
#include "runtime/http/http_server_impl.hpp"

namespace authstore {

namespace http_detail {

bool core::try_acquire() {
  auto n = in_flight.load(std::memory_order_relaxed);
  do {
    if (n >= limits.max_in_flight)
      return false;
  } while (!in_flight.compare_exchange_weak(n, n + 1));
  counters->in_flight.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void core::release() {
  in_flight.fetch_sub(1);
  counters->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

std::string serialize(const http_reply& r, bool close, bool keep_alive) {
  namespace http = boost::beast::http;
  auto reason = http::obsolete_reason(
    http::int_to_status(static_cast<unsigned>(r.status)));
  std::string out;
  out.reserve(r.body.size() + 160);
  out += "HTTP/1.1 ";
  out += std::to_string(r.status);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nContent-Type: ";
  out += r.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(r.body.size());
  out += "\r\n";
  for (const auto& [name, value] : r.headers)
    out += name + ": " + value + "\r\n";
  if (close)
    out += "Connection: close\r\n";
  else if (keep_alive)
    out += "Connection: keep-alive\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

} // namespace http_detail

using http_detail::asio::ip::tcp;

// -- responders ---------------------------------------------------------------

void http_responder::operator()(http_reply r) const {
  state_->send(std::move(r));
}

void http_responder::state::send(http_reply r) {
  if (done.exchange(true))
    return;
  core->release();
  // The connection travels with the handler, so its last reference (if
  // this is it) is dropped on the I/O thread. Never run after stop (the
  // io_context is stopped); then it is destroyed with the io_context.
  boost::asio::post(core->ioc,
                    [c = std::move(conn), s = seq, r = std::move(r)]() mutable {
                      c->complete(s, std::move(r));
                    });
}

http_responder::state::~state() {
  if (!done.load())
    send(to_reply(http_error(500, "internal",
                             "the request was dropped without an answer")));
}

// -- the server ---------------------------------------------------------------

namespace {

/// One bound address: its acceptor, TLS context and handler.
struct listener_state {
  http_listener cfg;
  std::unique_ptr<boost::asio::ssl::context> tls;
  tcp::acceptor acceptor;
  uint16_t port = 0;

  explicit listener_state(http_detail::core& c) : acceptor(c.ioc) {}
};

/// Refuses what cannot be served before anything starts: an address that
/// is not an IP literal (or "localhost"), TLS files OpenSSL refuses.
outcome<boost::asio::ip::address> parse_bind(const std::string& bind) {
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(
    bind == "localhost" ? "127.0.0.1" : bind, ec);
  if (ec)
    return failure{errc::invalid_config,
                   "'" + bind + "' is not an IP address (api.bind, http.bind)"};
  return a;
}

outcome<std::unique_ptr<boost::asio::ssl::context>>
make_tls(const http_listener& l) {
  namespace ssl = boost::asio::ssl;
  try {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                     | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                     | ssl::context::no_tlsv1_1);
    ctx->use_certificate_chain_file(l.tls.cert);
    ctx->use_private_key_file(l.tls.key, ssl::context::pem);
    ctx->load_verify_file(l.tls.ca);
    ctx->set_verify_mode(l.require_client_cert
                           ? ssl::verify_peer | ssl::verify_fail_if_no_peer_cert
                           : ssl::verify_none);
    return ctx;
  } catch (const boost::system::system_error& e) {
    return failure{errc::invalid_config,
                   std::string{"remote.tls-*: OpenSSL refused the files for "
                               "HTTPS: "}
                     + e.what()};
  }
}

void accept_next(http_detail::core& c, listener_state& l) {
  l.acceptor.async_accept(
    [&c, &l](boost::system::error_code ec, tcp::socket s) {
      if (ec == boost::asio::error::operation_aborted || !l.acceptor.is_open())
        return;
      if (!ec) {
        if (c.open_connections >= c.limits.max_connections || c.draining) {
          c.counters->dropped[static_cast<size_t>(api_drop::over_limit)]
            .fetch_add(1, std::memory_order_relaxed);
          s.close(ec);
        } else {
          http_detail::start_connection(c, l.cfg.handler, l.tls.get(),
                                        std::move(s));
        }
      }
      // Errors of one accept (EMFILE, a reset in the backlog) leave the
      // listener working.
      accept_next(c, l);
    });
}

} // namespace

struct http_server::impl {
  std::shared_ptr<http_detail::core> core;
  std::vector<std::unique_ptr<listener_state>> listeners;
  std::optional<
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
    work;
  std::thread thread;
  bool stopped = false;
};

http_server::http_server(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

outcome<std::unique_ptr<http_server>>
http_server::start(std::vector<http_listener> listeners,
                   const http_limits& limits, api_counters& counters) {
  auto x = std::make_unique<impl>();
  x->core = std::make_shared<http_detail::core>(limits, counters);
  for (auto& cfg : listeners) {
    auto l = std::make_unique<listener_state>(*x->core);
    auto addr = parse_bind(cfg.bind);
    if (!addr)
      return addr.error();
    if (cfg.tls.enabled()) {
      auto ctx = make_tls(cfg);
      if (!ctx)
        return ctx.error();
      l->tls = std::move(*ctx);
    }
    boost::system::error_code ec;
    tcp::endpoint ep{*addr, cfg.port};
    l->acceptor.open(ep.protocol(), ec);
    if (!ec)
      l->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
      l->acceptor.bind(ep, ec);
    if (!ec)
      l->acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
    if (ec)
      return failure{errc::invalid_config, "cannot listen on " + cfg.bind + ":"
                                             + std::to_string(cfg.port) + ": "
                                             + ec.message()};
    l->port = l->acceptor.local_endpoint().port();
    l->cfg = std::move(cfg);
    x->listeners.push_back(std::move(l));
  }
  for (auto& l : x->listeners)
    accept_next(*x->core, *l);
  x->work.emplace(x->core->ioc.get_executor());
  x->thread = std::thread{[c = x->core.get()] {
    c->ioc.run();
  }};
  return std::unique_ptr<http_server>{new http_server(std::move(x))};
}

http_server::~http_server() {
  stop(std::chrono::milliseconds{0});
}

uint16_t http_server::port(size_t i) const {
  return impl_->listeners.at(i)->port;
}

std::string http_server::endpoint(size_t i) const {
  const auto& l = *impl_->listeners.at(i);
  auto addr = l.acceptor.local_endpoint().address();
  auto text = addr.to_string();
  if (addr.is_v6())
    text = "[" + text + "]";
  return text + ":" + std::to_string(l.port);
}

namespace {

/// On the I/O thread, every 10 ms until `deadline`: once no request is in
/// flight and every connection has written what it owes, or at the
/// deadline, closes every connection and stops the io_context.
void finish_when_drained(std::shared_ptr<http_detail::core> core,
                         std::shared_ptr<boost::asio::steady_timer> timer,
                         std::chrono::steady_clock::time_point deadline) {
  bool drained = core->in_flight.load() == 0;
  for (auto& w : core->connections)
    if (auto c = w.lock(); c && !c->idle())
      drained = false;
  if (drained || std::chrono::steady_clock::now() >= deadline) {
    // A copy: close_now() takes each connection off the list.
    std::vector<std::weak_ptr<http_detail::connection_base>> all{
      core->connections.begin(), core->connections.end()};
    for (auto& w : all)
      if (auto c = w.lock())
        c->close_now();
    core->ioc.stop();
    return;
  }
  timer->expires_after(std::chrono::milliseconds{10});
  timer->async_wait([core, timer, deadline](boost::system::error_code) {
    finish_when_drained(core, timer, deadline);
  });
}

} // namespace

void http_server::stop(std::chrono::milliseconds drain) {
  auto& x = *impl_;
  if (x.stopped)
    return;
  x.stopped = true;
  auto core = x.core;
  auto deadline = std::chrono::steady_clock::now() + drain;
  boost::asio::post(core->ioc, [core, &x, deadline] {
    core->draining = true;
    for (auto& l : x.listeners) {
      boost::system::error_code ec;
      l->acceptor.close(ec);
    }
    finish_when_drained(
      core, std::make_shared<boost::asio::steady_timer>(core->ioc), deadline);
  });
  x.work.reset();
  if (x.thread.joinable())
    x.thread.join();
  x.listeners.clear();
}

} // namespace authstore
