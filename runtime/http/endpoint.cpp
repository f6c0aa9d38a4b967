// endpoint.cpp -- see endpoint.hpp.
#include "runtime/http/endpoint.hpp"

#include "runtime/engine/engine.hpp"
#include "runtime/engine/engine_actors.hpp"
#include "runtime/http/api_bridge.hpp"
#include "runtime/http/api_service.hpp"

namespace authstore {

http_front_config http_front_config::from(const settings& s, bool with_api) {
  http_front_config c;
  c.api = with_api && s.api_port().has_value();
  if (c.api)
    c.api_port = static_cast<uint16_t>(*s.api_port());
  c.api_bind = s.api_bind();
  c.ops_port = static_cast<uint16_t>(s.http_port());
  c.ops_bind = s.http_bind();
  c.tls = tls_files::from(s);
  c.require_client_cert = s.api_tls_require_client_cert();
  c.auth_limit.max_failures = static_cast<size_t>(s.auth_max_failures());
  c.auth_limit.window = s.auth_failure_window_s();
  auto& l = c.limits;
  l.max_body_bytes = static_cast<uint64_t>(s.api_max_body_bytes());
  l.max_header_bytes = static_cast<size_t>(s.api_max_header_bytes());
  l.max_connections = static_cast<size_t>(s.api_max_connections());
  l.max_in_flight_per_connection
    = static_cast<size_t>(s.api_max_in_flight_per_connection());
  l.max_in_flight = static_cast<size_t>(s.api_max_in_flight());
  l.read_timeout = s.api_read_timeout_ms();
  l.idle_timeout = s.api_idle_timeout_ms();
  return c;
}

outcome<std::unique_ptr<http_front>>
http_front::start(engine& e, const http_front_config& cfg) {
  std::unique_ptr<http_front> f{new http_front};
  bool shared = cfg.api && cfg.ops_port != 0 && cfg.ops_port == cfg.api_port;
  // One bridge actor per 100 requests in flight (api_bridge.hpp), at most
  // 64; the ops endpoint alone sees a scrape and a probe now and then.
  auto actors = (cfg.limits.max_in_flight + api_bridge::requests_per_actor - 1)
                / api_bridge::requests_per_actor;
  f->bridge_ = api_bridge::start(e, cfg.api ? std::min<size_t>(actors, 64) : 2);
  auto& counters = engine_api_counters(e);
  std::vector<http_listener> listeners;
  if (cfg.api) {
    http_listener l;
    l.bind = cfg.api_bind;
    l.port = cfg.api_port;
    l.tls = cfg.tls;
    l.require_client_cert = cfg.require_client_cert;
    api_service_config sc{cfg.secret, route_set{true, shared}};
    sc.previous_secret = cfg.previous_secret;
    sc.limiter = std::make_shared<auth_limiter>(cfg.auth_limit);
    sc.security = &engine_security_counters(e);
    l.handler
      = std::make_shared<api_service>(std::move(sc), f->bridge_, counters);
    f->api_index_ = 0;
    if (shared)
      f->ops_index_ = 0;
    listeners.push_back(std::move(l));
  }
  if (cfg.ops_port != 0 && !shared) {
    http_listener l;
    l.bind = cfg.ops_bind;
    l.port = cfg.ops_port;
    l.handler = std::make_shared<api_service>(
      api_service_config{"", route_set{false, true}}, f->bridge_, counters);
    f->ops_index_ = static_cast<int>(listeners.size());
    listeners.push_back(std::move(l));
  }
  auto server = http_server::start(std::move(listeners), cfg.limits, counters);
  if (!server) {
    f->bridge_->stop();
    return server.error();
  }
  f->server_ = std::move(*server);
  return f;
}

http_front::~http_front() {
  stop(std::chrono::milliseconds{0});
}

std::string http_front::api_endpoint() const {
  return api_index_ < 0 ? "" : server_->endpoint(api_index_);
}

uint16_t http_front::api_port() const {
  return api_index_ < 0 ? 0 : server_->port(api_index_);
}

uint16_t http_front::ops_port() const {
  return ops_index_ < 0 ? 0 : server_->port(ops_index_);
}

void http_front::stop(std::chrono::milliseconds drain) {
  if (server_)
    server_->stop(drain);
  if (bridge_)
    bridge_->stop();
}

outcome<std::unique_ptr<http_front>> start_ops_http(engine& e) {
  auto cfg = http_front_config::from(e.config(), false);
  if (cfg.ops_port == 0)
    return std::unique_ptr<http_front>{};
  return http_front::start(e, cfg);
}

} // namespace authstore
