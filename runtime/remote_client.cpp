// remote_client.cpp -- the client side of remote access (remote_client.hpp).
//
// The peer the server sees is the client's connection actor
// (remote_connection.hpp), which runs the handshake, forwards calls and
// fails them on a lost session. Calling threads talk to it through a
// scoped_actor; connecting and reconnecting (with backoff) happen in the
// calling thread, under a mutex, so an actor never blocks on the network.
#include "runtime/remote_client_actors.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <random>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#ifdef AUTHSTORE_HAVE_TLS
#include <caf/openssl/manager.hpp>
#endif

#include "messages/interfaces.hpp"
#include "runtime/auth.hpp"
#include "runtime/remote_connection.hpp"
#include "runtime/remote_server.hpp"

namespace authstore {

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

/// Extra time a calling thread waits beyond the connection actor's own
/// bound, so the connection actor's precise error always arrives first.
constexpr milliseconds call_margin{1000};

struct client_system_config : caf::actor_system_config {
  explicit client_system_config(const remote_options& o) {
    load<caf::io::middleman>();
    register_messages(*this);
    set("scheduler.max-threads", o.threads);
    // See engine.cpp: no idle polling sleep, 5-6x lower hop latency.
    set("work-stealing.moderate-sleep-duration", caf::timespan{0});
    configure_middleman(*this, o.heartbeat, o.connection_timeout);
    configure_tls(*this, o.tls);
  }
};

} // namespace

remote_options::remote_options() : protocol_version(remote_protocol_version) {}

outcome<remote_options> remote_options::from(const settings& s) {
  remote_options o;
  auto secret = load_secret(s.text("remote.secret-file"));
  if (!secret)
    return secret.error();
  o.secret = std::move(*secret);
  o.request_timeout = milliseconds{s.integer("remote.request-timeout-ms")};
  o.handshake_timeout = milliseconds{s.integer("remote.handshake-timeout-ms")};
  o.heartbeat = milliseconds{s.integer("remote.heartbeat-ms")};
  o.connection_timeout
    = milliseconds{s.integer("remote.connection-timeout-ms")};
  o.limits.value.max_value_bytes = s.integer("codec.max-value-bytes");
  o.limits.value.max_depth = s.integer("codec.max-depth");
  o.limits.value.max_fields = s.integer("codec.max-fields");
  o.limits.max_patch_bytes = s.integer("codec.max-patch-bytes");
  o.limits.max_writes = s.integer("codec.max-writes");
  o.threads = s.integer("scheduler.max-threads");
  o.tls = tls_files::from(s);
  if (auto ok = check_tls_files(o.tls); !ok)
    return ok.error();
  return o;
}

struct remote_client::impl {
  impl(std::string h, uint16_t p, remote_options o)
      : opts(std::move(o)), host(std::move(h)), port(p),
        endpoint((host.find(':') != std::string::npos ? "[" + host + "]" : host)
                 + ":" + std::to_string(port)),
        sys_cfg(opts), sys(sys_cfg),
        alive(std::make_shared<std::atomic<bool>>(false)),
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
      ->request(conn, opts.handshake_timeout * 2 + call_margin,
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
      backoff = milliseconds{0};
      return true;
    }
    backoff = backoff.count() == 0 ? opts.backoff_min
                                   : std::min(backoff * 2, opts.backoff_max);
    // +-25 % jitter, so that many clients do not reconnect in lockstep.
    std::uniform_real_distribution<double> jitter{0.75, 1.25};
    next_attempt
      = steady::now()
        + milliseconds{static_cast<int64_t>(backoff.count() * jitter(rng))};
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
      ->request(conn, opts.request_timeout + call_margin,
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
  milliseconds backoff{0};
  failure last_error;
  std::mt19937_64 rng;
};

remote_client::remote_client(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

remote_client::~remote_client() = default;

outcome<std::unique_ptr<remote_client>>
remote_client::connect(const std::string& host, uint16_t port,
                       remote_options opts) {
  // Before the actor system starts: CAF aborts on TLS files it cannot load.
  if (auto ok = check_tls_files(opts.tls); !ok)
    return ok.error();
  auto x = std::make_unique<impl>(host, port, std::move(opts));
  if (auto ok = x->connect_once(); !ok)
    return ok.error();
  return std::unique_ptr<remote_client>{new remote_client(std::move(x))};
}

outcome<uint64_t> remote_client::set(const std::string& sid, patch p) {
  return impl_->call<uint64_t>(set_atom::value, sid, std::move(p));
}

outcome<creds_reply> remote_client::get_creds(const std::string& sid) {
  return impl_->call<creds_reply>(get_creds_atom::value, sid);
}

outcome<keys_reply>
remote_client::get_keys(const std::string& sid, const std::string& type,
                        const std::vector<std::string>& ids) {
  return impl_->call<keys_reply>(get_keys_atom::value, sid, type, ids);
}

outcome<bool> remote_client::del(const std::string& sid) {
  return impl_->call<bool>(del_atom::value, sid);
}

outcome<bool> remote_client::touch(const std::string& sid) {
  return impl_->call<bool>(touch_atom::value, sid);
}

outcome<bool> remote_client::exists(const std::string& sid) {
  return impl_->call<bool>(exists_atom::value, sid);
}

bool remote_client::connected() const {
  return impl_->alive->load();
}

const std::string& remote_client::endpoint() const {
  return impl_->endpoint;
}

const patch_limits& remote_client::limits() const {
  return impl_->opts.limits;
}

caf::actor_system& remote_client_system(remote_client& c) {
  return c.internals().sys;
}

router_actor remote_client_session(remote_client& c) {
  if (!c.connected())
    return {};
  std::lock_guard<std::mutex> guard{c.internals().session_mx};
  return c.internals().session;
}

bool remote_client::may_have_been_applied(const failure& f) {
  return f.code == errc::timeout;
}

outcome<std::pair<std::string, uint16_t>>
parse_endpoint(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return failure{errc::invalid_argument,
                   "endpoint '" + text + "': " + why
                     + " (expected HOST:PORT or [IPv6]:PORT)"};
  };
  std::string host;
  std::string port_text;
  if (!text.empty() && text[0] == '[') {
    auto close = text.find("]:");
    if (close == std::string::npos)
      return bad("no ']:' after the IPv6 address");
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return bad("no port");
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return bad("an IPv6 address needs brackets");
  }
  if (host.empty())
    return bad("no host");
  unsigned port = 0;
  auto [p, ec] = std::from_chars(port_text.data(),
                                 port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || p != port_text.data() + port_text.size() || port == 0
      || port > 65535)
    return bad("the port must be a number from 1 to 65535");
  return std::make_pair(host, static_cast<uint16_t>(port));
}

} // namespace authstore
