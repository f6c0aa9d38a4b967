// client.cpp -- the client side of remote access (remote_client.hpp).
//
// The peer the server sees is the client's connection actor
// (remote_connection.hpp), which runs the handshake, forwards calls and
// fails them on a lost session. Calling threads talk to it through a
// scoped_actor; connecting and reconnecting (with backoff) happen in the
// calling thread, under a mutex, so an actor never blocks on the network.
#include "runtime/remote/client_impl.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <random>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/interfaces.hpp"
#include "runtime/node/node_settings.hpp"
#include "runtime/remote/auth.hpp"
#include "runtime/remote/connection.hpp"

namespace authstore {

remote_options::remote_options() : protocol_version(remote_protocol_version) {}

outcome<remote_options> remote_options::from(const settings& s) {
  remote_options o;
  auto secret = load_secret(s.remote_secret_file());
  if (!secret)
    return secret.error();
  o.secret = std::move(*secret);
  o.request_timeout = s.remote_request_timeout_ms();
  o.handshake_timeout = s.remote_handshake_timeout_ms();
  o.heartbeat = s.remote_heartbeat_ms();
  o.connection_timeout = s.remote_connection_timeout_ms();
  o.limits.value.max_value_bytes = s.codec_max_value_bytes();
  o.limits.value.max_depth = s.codec_max_depth();
  o.limits.value.max_fields = s.codec_max_fields();
  o.limits.max_patch_bytes = s.codec_max_patch_bytes();
  o.limits.max_writes = s.codec_max_writes();
  o.threads = s.scheduler_max_threads();
  o.tls = tls_files::from(s);
  if (auto ok = check_tls_files(o.tls); !ok)
    return ok.error();
  return o;
}

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

outcome<session_snapshot> remote_client::read_session(const std::string& sid) {
  return impl_->call<session_snapshot>(read_session_atom::value, sid);
}

outcome<session_page> remote_client::list_sessions(const std::string& cursor,
                                                   uint32_t count) {
  return impl_->call<session_page>(list_sessions_atom::value, cursor, count);
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

bool remote_client::may_have_been_applied(const failure& f) {
  return ::authstore::may_have_been_applied(f.code);
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
