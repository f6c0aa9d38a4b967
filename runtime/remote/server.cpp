// server.cpp -- the auth gate and publishing (remote_server.hpp).
// The per-connection session handle is in remote_session.cpp.
//
// Reads top-down: the gate (handshake, session bookkeeping, stop), then the
// remote_server class. Both actors live in the engine's actor system.
#include "runtime/remote/server.hpp"

#include "observe/log.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <iostream>
#include <map>
#include <thread>
#include <utility>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#ifdef AUTHSTORE_HAVE_TLS
// Not caf/openssl/all.hpp: its unpublish.hpp does not compile in 0.17.6
// (it names unpublish_atom_v, which 0.17 lacks). Unpublishing goes through
// the middleman, which shares the BASP broker with the OpenSSL module.
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include "messages/timing.hpp"
#include "runtime/engine/engine_actors.hpp"
#include "runtime/remote/auth.hpp"
#include "runtime/remote/peer_connector.hpp"
#include "runtime/remote/session_handle.hpp"

namespace authstore {

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// -- auth gate ----------------------------------------------------------------

/// Most handshakes between hello and auth at once; beyond it hellos are
/// refused (overloaded) until challenges are used or expire.
constexpr size_t max_pending_challenges = 1024;

/// Most pending challenges of one peer node; its oldest makes room for a
/// new one, so one peer cannot fill the table and lock others out.
constexpr size_t max_challenges_per_node = 8;

/// How often the gate wakes to expire challenges and check for stop.
constexpr milliseconds gate_poll{100};

/// Bound on asking the middleman for a peer's address (a local actor: it
/// answers in microseconds unless the node is overloaded).
constexpr milliseconds peer_lookup_timeout{500};

/// How long killed sessions get to report down before the gate gives up.
constexpr milliseconds kill_wait{1000};

/// Bound on each step of connecting to another node for forwarding
/// (membership, TCP connect, each handshake step): nodes of one cluster
/// sit on one network, and a node that does not answer a handshake within
/// it is treated as unreachable (its reads are then served from Redis
/// here, its writes wait for its lease to expire).
constexpr milliseconds peer_step_timeout{1000};

/// Shared between remote_server and its gate thread.
struct gate_shared {
  router_actor router;
  remote_server_config cfg;
  /// Failed handshakes and refusals are counted here (the engine's).
  security_counters* security = nullptr;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> drain_ms{0};
  std::promise<remote_server::stop_report> done;
};

/// An issued server nonce, waiting for its auth.
struct challenge {
  std::string client_nonce;
  caf::node_id peer_node;
  steady::time_point expires;
};

/// The gate's state; lives on the gate thread only.
class gate {
public:
  gate(caf::blocking_actor* self, std::shared_ptr<gate_shared> sh)
      : self_(self), sh_(std::move(sh)), limiter_(sh_->cfg.auth_limit) {
    secrets_.current = sh_->cfg.secret;
    secrets_.previous = sh_->cfg.previous_secret;
  }

  /// Serves handshakes until stop, then drains (on the gate's thread).
  void run();

private:
  caf::result<std::string, std::string> hello(uint32_t version,
                                              const std::string& client_nonce) {
    if (stopping_)
      return make_error(errc::shutting_down, "the node is shutting down");
    if (version != remote_protocol_version)
      return refuse(errc::protocol_mismatch,
                    "the server speaks remote protocol "
                      + std::to_string(remote_protocol_version)
                      + ", the client " + std::to_string(version));
    if (!is_nonce(client_nonce))
      return refuse(errc::invalid_argument, "malformed client nonce");
    if (!limiter_.allowed(peer_source(), steady::now())) {
      count(&security_counters::auth_limited);
      return refuse(errc::unauthorized,
                    "too many failed handshakes from this address; wait for "
                    "auth.failure-window-s");
    }
    expire();
    limit_per_node(sender_node());
    if (challenges_.size() >= max_pending_challenges)
      return make_error(errc::overloaded, "too many handshakes in progress");
    auto sn = make_nonce();
    if (!sn)
      return make_error(sn.error());
    auto proof = server_proofs(secrets_, version, client_nonce, *sn);
    challenges_[*sn] = challenge{client_nonce, sender_node(),
                                 steady::now() + sh_->cfg.challenge_ttl};
    return {*sn, std::move(proof)};
  }

  caf::result<router_actor> auth(const std::string& server_nonce,
                                 const std::string& proof) {
    if (stopping_)
      return make_error(errc::shutting_down, "the node is shutting down");
    if (!self_->current_sender())
      return refuse(errc::unauthorized, "anonymous auth (no sender)");
    auto i = challenges_.find(server_nonce);
    if (i == challenges_.end() || i->second.expires < steady::now())
      return auth_failed("unknown or expired challenge");
    // Single use: a proof, once seen, is worthless.
    auto c = std::move(i->second);
    challenges_.erase(i);
    if (c.peer_node != sender_node())
      return auth_failed("challenge issued to another peer");
    // Both compared, always: the time taken does not say which matched.
    bool current = proofs_equal(
      proof, client_proof(secrets_.current, remote_protocol_version,
                          server_nonce, c.client_nonce));
    bool previous
      = !secrets_.previous.empty()
        && proofs_equal(proof,
                        client_proof(secrets_.previous, remote_protocol_version,
                                     server_nonce, c.client_nonce));
    if (!current && !previous)
      return auth_failed("proof does not match: the shared secrets differ");
    if (sessions_.size() >= sh_->cfg.max_connections)
      return make_error(errc::overloaded,
                        std::to_string(sessions_.size())
                          + " connections (remote.max-connections)");
    remote_session_config args;
    args.router = sh_->router;
    args.peer = self_->current_sender();
    args.max_outstanding = sh_->cfg.max_outstanding;
    args.max_message_bytes = sh_->cfg.max_message_bytes;
    args.forward_timeout = sh_->cfg.forward_timeout;
    auto h = spawn_remote_session(self_->home_system(), std::move(args));
    self_->monitor(h);
    sessions_.emplace(h.address(), h);
    return h;
  }

  /// A failed auth: counted, charged to the peer's address, refused.
  caf::error auth_failed(const std::string& why) {
    count(&security_counters::auth_failures);
    limiter_.failed(peer_source(), steady::now());
    return refuse(errc::unauthorized, why);
  }

  void count(std::array<std::atomic<uint64_t>, auth_port_count>
               security_counters::*which) {
    if (sh_->security)
      (sh_->security->*which)[static_cast<size_t>(auth_port::remote)].fetch_add(
        1, std::memory_order_relaxed);
  }

  /// The sender's IP address as the middleman knows it (its BASP
  /// connection), the key of the failure limit; the node id when the
  /// middleman does not answer within peer_lookup_timeout (a node id is
  /// chosen by the peer, so that fallback only limits honest peers).
  std::string peer_source() {
    auto node = sender_node();
    std::string addr;
    // A scoped actor of its own: a nested receive on the gate itself would
    // replace its current message, and with it the handshake's sender.
    caf::scoped_actor helper{self_->home_system()};
    helper
      ->request(self_->home_system().middleman().actor_handle(),
                peer_lookup_timeout, caf::get_atom::value, node)
      .receive([&](const caf::node_id&, std::string& a,
                   uint16_t) { addr = std::move(a); },
               [&](caf::error&) {});
    return addr.empty() ? "node:" + caf::to_string(node) : addr;
  }

  caf::node_id sender_node() {
    const auto& s = self_->current_sender();
    return s ? s->node() : caf::node_id{};
  }

  /// Logs a refused handshake (never the secret, a nonce or a proof) and
  /// returns the error for the peer.
  caf::error refuse(errc code, const std::string& why) {
    log::write(log::level::warn, "remote_server", "handshake_refused",
               {{"node", caf::to_string(sender_node())},
                {"reason", std::string{to_string(code)}},
                {"detail", why}});
    return make_error(code, why);
  }

  /// Drops the oldest challenges of `node` beyond the per-node limit.
  void limit_per_node(const caf::node_id& node) {
    std::vector<std::map<std::string, challenge>::iterator> mine;
    for (auto i = challenges_.begin(); i != challenges_.end(); ++i)
      if (i->second.peer_node == node)
        mine.push_back(i);
    if (mine.size() < max_challenges_per_node)
      return;
    std::sort(mine.begin(), mine.end(), [](auto a, auto b) {
      return a->second.expires < b->second.expires;
    });
    for (size_t i = 0; i + max_challenges_per_node <= mine.size(); ++i)
      challenges_.erase(mine[i]);
  }

  void expire() {
    auto now = steady::now();
    for (auto i = challenges_.begin(); i != challenges_.end();)
      i = i->second.expires < now ? challenges_.erase(i) : std::next(i);
  }

  auto hello_handler() {
    return [this](hello_atom, uint32_t version, std::string& cn) {
      return hello(version, cn);
    };
  }

  auto auth_handler() {
    return [this](auth_atom, std::string& sn, std::string& proof) {
      return auth(sn, proof);
    };
  }

  auto down_handler() {
    return [this](caf::down_msg& dm) {
      sessions_.erase(dm.source);
    };
  }

  /// Exit messages are ordinary messages to a blocking actor: ignoring them
  /// is what keeps a peer from killing the gate (see the header).
  auto exit_handler() {
    return [](caf::exit_msg&) {
    };
  }

  auto other_handler() {
    return caf::others >> [](caf::message_view&) -> caf::result<caf::message> {
      return caf::sec::unexpected_message;
    };
  }

  /// Refuses handshakes, drains every session within the bound, kills the
  /// rest.
  remote_server::stop_report drain() {
    stopping_ = true;
    remote_server::stop_report report;
    report.sessions = sessions_.size();
    for (auto& kvp : sessions_)
      self_->send_exit(kvp.second, caf::exit_reason::user_shutdown);
    wait_for_sessions(steady::now() + milliseconds{sh_->drain_ms.load()});
    if (!sessions_.empty()) {
      report.killed = sessions_.size();
      for (auto& kvp : sessions_)
        self_->send_exit(kvp.second, caf::exit_reason::kill);
      wait_for_sessions(steady::now() + kill_wait);
    }
    return report;
  }

  void wait_for_sessions(steady::time_point deadline) {
    while (!sessions_.empty() && steady::now() < deadline) {
      auto left
        = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
      self_->receive(
        hello_handler(), auth_handler(), down_handler(), exit_handler(),
        other_handler(), caf::after(std::min(left, gate_poll)) >> [] {});
    }
  }

  caf::blocking_actor* self_;
  std::shared_ptr<gate_shared> sh_;
  shared_secrets secrets_;
  auth_limiter limiter_;
  std::map<std::string, challenge> challenges_;
  std::map<caf::actor_addr, router_actor> sessions_;
  bool stopping_ = false;
};

void gate::run() {
  self_->receive_while([this] { return !sh_->stop.load(); })(
    hello_handler(), auth_handler(), down_handler(), exit_handler(),
    other_handler(), caf::after(gate_poll) >> [this] { expire(); });
  sh_->done.set_value(drain());
}

/// Time the middleman gets to write the last replies of drained sessions
/// before the actor system (and with it every socket) is torn down.
constexpr milliseconds flush_grace{200};

std::string host_port(const std::string& host, uint16_t port) {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

} // namespace

// -- remote_server
// --------------------------------------------------------------

remote_server_config remote_server_config::from(const settings& s) {
  remote_server_config result;
  result.bind = s.remote_bind();
  result.port = static_cast<uint16_t>(s.remote_port());
  result.max_outstanding = s.remote_max_outstanding();
  result.max_message_bytes = s.remote_max_message_bytes();
  result.max_connections = s.remote_max_connections();
  // The session's own bound plus the margin engine.cpp uses for its
  // blocking calls, so the session's precise error arrives first.
  result.forward_timeout = s.session_request_timeout_ms() + reply_margin;
  result.tls = tls_files::from(s);
  result.auth_limit.max_failures = static_cast<size_t>(s.auth_max_failures());
  result.auth_limit.window = s.auth_failure_window_s();
  return result;
}

struct remote_server::impl {
  caf::actor_system* sys = nullptr;
  remote_server_config cfg;
  std::shared_ptr<gate_shared> shared;
  std::future<stop_report> done;
  auth_gate_actor gate;
  /// Connections to the other nodes (cluster.enabled only).
  peer_connector_actor connector;
  uint16_t port = 0;
  bool stopped = false;
  stop_report report;
};

remote_server::remote_server(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

outcome<std::unique_ptr<remote_server>>
remote_server::start(engine& e, remote_server_config cfg) {
  auto x = std::make_unique<impl>();
  x->sys = &engine_system(e);
  x->cfg = cfg;
  x->shared = std::make_shared<gate_shared>();
  x->shared->router = engine_router(e);
  x->shared->security = &engine_security_counters(e);
  x->shared->cfg = cfg;
  x->done = x->shared->done.get_future();
  auto sh = x->shared;
  auto g = x->sys->spawn<caf::detached>([sh](caf::blocking_actor* self) {
    gate{self, sh}.run();
  });
  x->gate = caf::actor_cast<auth_gate_actor>(g);
  // SO_REUSEADDR: a restarted server can take its port back at once.
  // TLS asked for but the actor system has no OpenSSL module: refused, not
  // silently served in plain text.
  bool no_tls_module = cfg.tls.enabled();
  caf::expected<uint16_t> port{caf::sec::runtime_error};
  if (!cfg.tls.enabled())
    port
      = x->sys->middleman().publish(x->gate, cfg.port, cfg.bind.c_str(), true);
#ifdef AUTHSTORE_HAVE_TLS
  else if (x->sys->has_openssl_manager()) {
    no_tls_module = false;
    port = caf::openssl::publish(x->gate, cfg.port, cfg.bind.c_str(), true);
  }
#endif
  if (!port) {
    x->shared->stop = true;
    x->done.wait();
    if (no_tls_module)
      return failure{errc::invalid_config,
                     "remote.tls-cert is set, but the engine's actor system "
                     "has no TLS module (this build has "
                       + std::string{tls_supported() ? "" : "no "}
                       + "libcaf_openssl)"};
    return failure{errc::invalid_config,
                   "cannot listen on " + host_port(cfg.bind, cfg.port) + ": "
                     + x->sys->render(port.error())};
  }
  x->port = *port;
  // Forwarding to the owners of sessions (issue #19): through the other
  // nodes' gates, with this node's secret, as a remote client would.
  if (auto registrar = engine_registrar(e)) {
    peer_connector_config pc;
    pc.registrar = registrar;
    pc.secret = cfg.secret;
    pc.tls = cfg.tls.enabled();
    pc.step_timeout = peer_step_timeout;
    pc.request_timeout = cfg.forward_timeout;
    x->connector = spawn_peer_connector(*x->sys, std::move(pc));
    engine_forward_through(e, x->connector);
  }
  return std::unique_ptr<remote_server>{new remote_server(std::move(x))};
}

remote_server::~remote_server() {
  stop(impl_->cfg.forward_timeout);
}

uint16_t remote_server::port() const {
  return impl_->port;
}

std::string remote_server::endpoint() const {
  return host_port(impl_->cfg.bind, impl_->port);
}

remote_server::stop_report remote_server::stop(milliseconds bound) {
  auto& x = *impl_;
  if (x.stopped)
    return x.report;
  x.stopped = true;
  // 1. No new connections. Existing ones keep working until drained.
  x.sys->middleman().unpublish(x.gate, x.port);
  // 2. Drain (on the gate thread); its bound covers every forwarded
  //    request, so waiting a little longer than it always ends.
  x.shared->drain_ms = bound.count();
  x.shared->stop = true;
  if (x.done.wait_for(bound + kill_wait + milliseconds{1000})
      == std::future_status::ready)
    x.report = x.done.get();
  x.gate = nullptr;
  if (x.connector)
    caf::anon_send_exit(x.connector, caf::exit_reason::user_shutdown);
  x.connector = nullptr;
  std::this_thread::sleep_for(flush_grace);
  return x.report;
}

} // namespace authstore
