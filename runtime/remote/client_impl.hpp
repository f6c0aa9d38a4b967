// client_impl.hpp -- a remote_client's state: its own actor system, the
// connection actor and the reconnect bookkeeping. Private to
// runtime/remote/: shared by client.cpp (connect, calls) and
// client_actors.cpp (actor-level access).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#ifdef AUTHSTORE_HAVE_TLS
#include <caf/openssl/manager.hpp>
#endif

#include "messages/backoff.hpp"
#include "messages/interfaces.hpp"
#include "messages/timing.hpp"
#include "runtime/node/node_settings.hpp"
#include "runtime/remote/client_actors.hpp"
#include "runtime/remote/connection.hpp"

namespace authstore {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

/// The client's CAF configuration, set from code (no caf-application.ini).
struct client_system_config : caf::actor_system_config {
  explicit client_system_config(const remote_options& o) {
    load<caf::io::middleman>();
    register_messages(*this);
    set("scheduler.max-threads", o.threads);
    // No idle polling sleep: 5-6x lower hop latency (CAF-0.17-GUIDE 7).
    set("work-stealing.moderate-sleep-duration", caf::timespan{0});
    configure_middleman(*this, o.heartbeat, o.connection_timeout);
    configure_tls(*this, o.tls);
  }
};

struct remote_client::impl {
  impl(std::string h, uint16_t p, remote_options o)
      : opts(std::move(o)), host(std::move(h)), port(p),
        endpoint((host.find(':') != std::string::npos ? "[" + host + "]" : host)
                 + ":" + std::to_string(port)),
        sys_cfg(opts), sys(sys_cfg),
        alive(std::make_shared<std::atomic<bool>>(false)),
        reconnects(reconnect_backoff(opts.backoff_min, opts.backoff_max)),
        rng(std::random_device{}()) {
    remote_connection_config init;
    init.alive = alive;
    init.secret = opts.secret;
    init.version = opts.protocol_version;
    init.request_timeout = opts.request_timeout;
    init.handshake_timeout = opts.handshake_timeout;
    init.endpoint = endpoint;
    conn = spawn_remote_connection(sys, std::move(init));
  }

  ~impl() {
    caf::anon_send_exit(conn, caf::exit_reason::user_shutdown);
    conn = nullptr;
  }

  /// Connects the middleman, checks the interface, runs the handshake.
  outcome<bool> connect_once() {
    outcome<bool> result{errc::unreachable, "no answer"};
    caf::scoped_actor self{sys};
    auth_gate_actor gate;
    // Not middleman().remote_actor(): it waits forever for a peer that
    // accepted the TCP connection and then froze. With TLS, the OpenSSL
    // module's middleman actor: same interface, TLS sockets.
    auto mm = sys.middleman().actor_handle();
#ifdef AUTHSTORE_HAVE_TLS
    if (opts.tls.enabled())
      mm = sys.openssl_manager().actor_handle();
#endif
    self
      ->request(mm, opts.handshake_timeout, caf::connect_atom::value, host,
                port)
      .receive(
        [&](caf::node_id&, caf::strong_actor_ptr& ptr,
            std::set<std::string>& ifs) {
          if (!ptr)
            result = failure{errc::unreachable,
                             "nothing is published at " + endpoint};
          else if (!sys.assignable<auth_gate_actor>(ifs))
            result = failure{errc::protocol_mismatch,
                             "the server at " + endpoint
                               + " speaks another protocol (its published "
                                 "interface differs from this client's)"};
          else
            gate = caf::actor_cast<auth_gate_actor>(std::move(ptr));
        },
        [&](caf::error& e) {
          result
            = failure{errc::unreachable, "cannot connect to " + endpoint + ": "
                                           + sys.render(e) + tls_hint()};
        });
    if (!gate)
      return result;
    self
      ->request(conn, opts.handshake_timeout * 2 + reply_margin,
                hello_atom::value, gate)
      .receive(
        [&](router_actor& s) {
          std::lock_guard<std::mutex> guard{session_mx};
          session = std::move(s);
          result = true;
        },
        [&](caf::error& e) { result = to_failure(e); });
    return result;
  }

  /// Why a connection may fail at the transport level although the port
  /// is open: CAF reports a failed TLS handshake, or a TLS peer meeting a
  /// plain one, only as a closed connection or a timeout.
  std::string tls_hint() const {
    if (opts.tls.enabled())
      return " (over TLS: the server may not use TLS, or the TLS handshake "
             "failed: is the server's certificate signed by a CA in "
             "remote.tls-ca ("
             + opts.tls.ca
             + "), and does the server trust this client's certificate?)";
    return " (without TLS: if the server uses TLS, set remote.tls-cert, "
           "remote.tls-key and remote.tls-ca here too)";
  }

  /// Reconnects when no session is up, unless backing off.
  outcome<bool> ensure_connected() {
    if (alive->load())
      return true;
    std::lock_guard<std::mutex> guard{mx};
    if (alive->load())
      return true;
    auto now = steady::now();
    if (now < next_attempt) {
      auto wait = std::chrono::duration_cast<milliseconds>(next_attempt - now);
      return failure{errc::unreachable,
                     "not connected to " + endpoint + "; next attempt in "
                       + std::to_string(wait.count())
                       + " ms (last: " + last_error.render() + ")"};
    }
    auto r = connect_once();
    if (r) {
      reconnects.reset();
      return true;
    }
    next_attempt = steady::now() + reconnects.next_from(rng);
    last_error = r.error();
    return r.error();
  }

  template <class T, class... Ts>
  outcome<T> call(Ts&&... xs) {
    if (auto ok = ensure_connected(); !ok)
      return ok.error();
    outcome<T> result{errc::internal, "no reply"};
    caf::scoped_actor self{sys};
    self
      ->request(conn, opts.request_timeout + reply_margin,
                std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& e) { result = to_failure(e); });
    return result;
  }

  remote_options opts;
  std::string host;
  uint16_t port;
  std::string endpoint;
  client_system_config sys_cfg;
  caf::actor_system sys;
  std::shared_ptr<std::atomic<bool>> alive;
  caf::actor conn;
  std::mutex mx;
  /// The last session handle, for actor-level access
  /// (remote_client_actors.hpp); guarded by session_mx.
  std::mutex session_mx;
  router_actor session;
  steady::time_point next_attempt{};
  /// Failed connects since the last success.
  backoff reconnects;
  failure last_error;
  std::mt19937_64 rng;
};

} // namespace authstore
