// remote_server.cpp -- the auth gate and publishing (remote_server.hpp).
// The per-connection session handle is in remote_session.cpp.
//
// Reads top-down: the gate (handshake, session bookkeeping, stop), then the
// remote_server class. Both actors live in the engine's actor system.
#include "runtime/remote_server.hpp"

#include "actors/log.hpp"

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

#include "runtime/auth.hpp"
#include "runtime/engine_actors.hpp"
#include "runtime/remote_session.hpp"

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

/// How long killed sessions get to report down before the gate gives up.
constexpr milliseconds kill_wait{1000};

/// Shared between remote_server and its gate thread.
struct gate_shared {
  router_actor router;
  remote_server_config cfg;
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
      : self_(self), sh_(std::move(sh)) {}

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
    expire();
    limit_per_node(sender_node());
    if (challenges_.size() >= max_pending_challenges)
      return make_error(errc::overloaded, "too many handshakes in progress");
    auto sn = make_nonce();
    if (!sn)
      return make_error(sn.error());
    auto proof = server_proof(sh_->cfg.secret, version, client_nonce, *sn);
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
      return refuse(errc::unauthorized, "unknown or expired challenge");
    // Single use: a proof, once seen, is worthless.
    auto c = std::move(i->second);
    challenges_.erase(i);
    if (c.peer_node != sender_node())
      return refuse(errc::unauthorized, "challenge issued to another peer");
    auto expected = client_proof(sh_->cfg.secret, remote_protocol_version,
                                 server_nonce, c.client_nonce);
    if (!proofs_equal(proof, expected))
      return refuse(errc::unauthorized,
                    "proof does not match: the shared secrets differ");
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
  result.bind = s.text("remote.bind");
  result.port = static_cast<uint16_t>(s.integer("remote.port"));
  result.max_outstanding = s.integer("remote.max-outstanding");
  result.max_message_bytes = s.integer("remote.max-message-bytes");
  result.max_connections = s.integer("remote.max-connections");
  // The session's own bound plus the margin engine.cpp uses for its
  // blocking calls, so the session's precise error arrives first.
  result.forward_timeout
    = milliseconds{s.integer("session.request-timeout-ms") + 1000};
  result.tls = tls_files::from(s);
  return result;
}

struct remote_server::impl {
  caf::actor_system* sys = nullptr;
  remote_server_config cfg;
  std::shared_ptr<gate_shared> shared;
  std::future<stop_report> done;
  auth_gate_actor gate;
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
  std::this_thread::sleep_for(flush_grace);
  return x.report;
}

// -- TLS ---------------------------------------------------------------------

tls_files tls_files::from(const settings& s) {
  tls_files result;
  result.cert = s.text("remote.tls-cert");
  result.key = s.text("remote.tls-key");
  result.ca = s.text("remote.tls-ca");
  return result;
}

bool tls_supported() {
#ifdef AUTHSTORE_HAVE_TLS
  return true;
#else
  return false;
#endif
}

namespace {

failure tls_problem(const char* key, const std::string& path,
                    const std::string& why) {
  return failure{errc::invalid_config,
                 std::string{key} + ": '" + path + "' " + why};
}

/// Whether `path` can be opened for reading; the reason when not.
std::string unreadable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr)
    return std::strerror(errno);
  std::fclose(f);
  return {};
}

#ifdef AUTHSTORE_HAVE_TLS

/// OpenSSL's queued errors as one line (and the queue emptied, so that
/// nothing stale reaches CAF's own calls on this thread).
std::string ssl_errors() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    result += (result.empty() ? "" : "; ") + std::string{buf};
  }
  return result.empty() ? "no detail from OpenSSL" : result;
}

/// Refuses to decrypt: without it OpenSSL would prompt on the terminal for
/// the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

#endif

} // namespace

outcome<bool> check_tls_files(const tls_files& files) {
  std::pair<const char*, const std::string*> rows[]
    = {{"remote.tls-cert", &files.cert},
       {"remote.tls-key", &files.key},
       {"remote.tls-ca", &files.ca}};
  size_t set = 0;
  for (auto& [key, path] : rows)
    set += path->empty() ? 0 : 1;
  if (set == 0)
    return true;
  for (auto& [key, path] : rows)
    if (path->empty())
      return failure{errc::invalid_config,
                     std::string{key}
                       + " is not set: TLS needs remote.tls-cert, "
                         "remote.tls-key and remote.tls-ca together"};
  if (!tls_supported())
    return failure{errc::invalid_config,
                   "remote.tls-cert is set, but this build has no TLS (CAF's "
                   "OpenSSL module, libcaf_openssl, was not found when it "
                   "was built)"};
  for (auto& [key, path] : rows)
    if (auto why = unreadable(*path); !why.empty())
      return tls_problem(key, *path, "cannot be read: " + why);
#ifdef AUTHSTORE_HAVE_TLS
  // The same calls CAF makes per connection (libcaf_openssl session.cpp),
  // plus the key check CAF skips (a mismatch there fails every handshake).
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx{SSL_CTX_new(TLS_method()),
                                                   SSL_CTX_free};
  if (!ctx)
    return failure{errc::internal,
                   "cannot create an OpenSSL context: " + ssl_errors()};
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
    return tls_problem("remote.tls-cert", files.cert,
                       "is not a usable PEM certificate: " + ssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(),
                                  SSL_FILETYPE_PEM)
      != 1) {
    // OpenSSL compares the key with the certificate loaded before it.
    bool mismatch
      = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return tls_problem("remote.tls-key", files.key,
                       (mismatch ? "does not match the certificate in "
                                   "remote.tls-cert ("
                                     + files.cert + ")"
                                 : std::string{"is not an unencrypted PEM "
                                               "private key"})
                         + ": " + ssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return tls_problem("remote.tls-key", files.key,
                       "does not match the certificate in remote.tls-cert ("
                         + files.cert + "): " + ssl_errors());
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return tls_problem("remote.tls-ca", files.ca,
                       "holds no usable PEM CA certificate: " + ssl_errors());
#endif
  return true;
}

#ifdef AUTHSTORE_HAVE_TLS
} // namespace authstore

// -- a fix for libcaf_openssl 0.17.6: stale OpenSSL errors ------------------
//
// SSL_get_error() reads the calling thread's OpenSSL error queue, which must
// be empty before each SSL I/O call (SSL_get_error(3)). libcaf_openssl never
// clears it, and all TLS connections of a node share the multiplexer
// thread. So one peer's failed handshake (a port scan's connect-and-close,
// a plain client, an untrusted certificate) left an error queued, and the
// next SSL_read of every *established* connection that had to wait for data
// (SSL_ERROR_WANT_READ) was misread as SSL_ERROR_SSL: CAF closed those
// connections and their requests in flight ended as "outcome unknown"
// (found by remote_tls_e2etest; a new handshake cleared the queue again).
//
// The fix: these definitions in the executable take the place of libssl's
// for every caller in the process (the dynamic linker binds
// libcaf_openssl's calls to them, as it does for an interposed malloc);
// each clears the queue and calls libssl's own function. Other OpenSSL
// users in the process (libmongoc's TLS) are unaffected beyond the cleared
// queue, which OpenSSL requires before these calls anyway.
namespace {

template <class F>
F real_ssl_function(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "authstore: libssl has no %s\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = real_ssl_function<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real
    = real_ssl_function<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto real = real_ssl_function<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto real = real_ssl_function<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

namespace authstore {
#endif

void configure_tls(caf::actor_system_config& cfg, const tls_files& files) {
  if (!files.enabled())
    return;
#ifdef AUTHSTORE_HAVE_TLS
  cfg.load<caf::openssl::manager>();
  // The members behind openssl.certificate, openssl.key, openssl.cafile
  // (set directly: CAF reads them, not the settings map, per connection).
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
#else
  (void)cfg;
#endif
}

void configure_middleman(caf::actor_system_config& cfg, milliseconds heartbeat,
                         milliseconds connection_timeout) {
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{connection_timeout});
}

void configure_remote_node(caf::actor_system_config& cfg, const settings& s) {
  configure_middleman(cfg, milliseconds{s.integer("remote.heartbeat-ms")},
                      milliseconds{s.integer("remote.connection-timeout-ms")});
}

bool is_loopback_address(const std::string& address) {
  return address == "localhost" || address == "::1"
         || address.rfind("127.", 0) == 0;
}

} // namespace authstore
