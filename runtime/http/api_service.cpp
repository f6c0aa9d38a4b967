// api_service.cpp -- see api_service.hpp.
#include "runtime/http/api_service.hpp"

#include <chrono>

#include "runtime/http/api_bodies.hpp"
#include "runtime/node/secret_compare.hpp"

namespace authstore {

namespace {

using clock_type = std::chrono::steady_clock;

bool iequals_ascii(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20))
      return false;
  return true;
}

http_reply unauthorized() {
  return to_reply(
    http_error(401, "unauthorized",
               "missing or wrong `Authorization: Bearer` secret (the shared "
               "secret of remote access)"));
}

} // namespace

api_service::api_service(api_service_config cfg,
                         std::shared_ptr<api_bridge> bridge,
                         api_counters& counters)
    : cfg_(std::move(cfg)), bridge_(std::move(bridge)), counters_(counters) {}

bool api_service::authorized(const std::string& authorization) const {
  if (cfg_.secret.empty())
    return true;
  // "Bearer" (any case), spaces, the token; nothing after it.
  std::string_view h = authorization;
  auto sp = h.find(' ');
  if (sp == std::string_view::npos || !iequals_ascii(h.substr(0, sp), "bearer"))
    return false;
  auto token = h.substr(sp);
  token.remove_prefix(std::min(token.find_first_not_of(' '), token.size()));
  // Both compared, always: the time taken does not say which one matched.
  bool current = equal_in_constant_time(token, cfg_.secret);
  bool previous = !cfg_.previous_secret.empty()
                  && equal_in_constant_time(token, cfg_.previous_secret);
  return current || previous;
}

std::optional<http_reply> api_service::check_auth(const http_head& head,
                                                  api_route route) {
  auto now = std::chrono::steady_clock::now();
  auto slot = static_cast<size_t>(auth_port::http);
  if (cfg_.limiter && !cfg_.limiter->allowed(head.peer, now)) {
    if (cfg_.security)
      cfg_.security->auth_limited[slot].fetch_add(1, std::memory_order_relaxed);
    counters_.count(route, 429);
    auto e = http_error(429, "auth_rate_limited",
                        "too many failed authentication attempts from this "
                        "address; wait for auth.failure-window-s");
    e.retryable = false;
    return to_reply(e);
  }
  if (authorized(head.authorization))
    return std::nullopt;
  if (cfg_.limiter)
    cfg_.limiter->failed(head.peer, now);
  if (cfg_.security)
    cfg_.security->auth_failures[slot].fetch_add(1, std::memory_order_relaxed);
  counters_.count(route, 401);
  return unauthorized();
}

std::optional<http_reply> api_service::on_head(const http_head& head) {
  auto m = match_route(head.method, head.target, cfg_.routes);
  if (cfg_.routes.api && needs_auth(head.target) && !cfg_.secret.empty())
    if (auto refused = check_auth(head, m.error ? api_route::unknown : m.route))
      return refused;
  if (m.error) {
    counters_.count(m.route, m.error->status);
    return to_reply(*m.error);
  }
  return std::nullopt;
}

void api_service::on_request(http_request req, http_responder respond) {
  auto start = clock_type::now();
  auto m = match_route(req.method, req.target, cfg_.routes);
  auto route = m.error ? api_route::unknown : m.route;
  auto* counters = &counters_;
  auto done = [respond, counters, route, start](http_reply r) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                clock_type::now() - start)
                .count();
    counters->latency[static_cast<size_t>(route)].record(
      static_cast<uint64_t>(ns));
    counters->count(route, r.status);
    respond(std::move(r));
  };
  if (m.error) { // on_head refused it already; kept for safety
    done(to_reply(*m.error));
    return;
  }
  switch (m.route) {
    case api_route::health:
      done(ok_reply("{\"status\":\"ok\"}\n"));
      return;
    default:
      bridge_->submit(
        {m.route, std::move(m.sid), std::move(m.type), std::move(req.body)},
        std::move(done));
      return;
  }
}

void api_service::on_server_reply(const std::string* target, int status) {
  auto route = api_route::unknown;
  if (target) {
    // The method does not change the route label; any that matches does.
    for (const char* method : {"GET", "POST", "DELETE"}) {
      auto m = match_route(method, *target, cfg_.routes);
      if (!m.error) {
        route = m.route;
        break;
      }
    }
  }
  counters_.count(route, status);
}

} // namespace authstore
