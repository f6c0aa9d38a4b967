// endpoint.cpp -- routes of the operations endpoint (endpoint.hpp).
#include "runtime/http/endpoint.hpp"

#include "runtime/engine/engine.hpp"
#include "runtime/http/health.hpp"

namespace authstore {

namespace {

http_response route(engine& e, const std::string& path) {
  if (path == "/metrics")
    return {200, "text/plain; version=0.0.4", e.metrics_text()};
  if (path == "/healthz")
    return liveness(e);
  if (path == "/readyz")
    return readiness(e);
  return {404, "application/json",
          R"({"error":"not found"})"
          "\n"};
}

} // namespace

outcome<std::unique_ptr<http_server>> start_ops_http(engine& e) {
  auto port = e.config().http_port();
  if (port <= 0)
    return std::unique_ptr<http_server>{};
  auto* ep = &e;
  return http_server::start(
    e.config().http_bind(), static_cast<uint16_t>(port),
    [ep](const std::string& path) { return route(*ep, path); });
}

} // namespace authstore
