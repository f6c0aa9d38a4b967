// http_api_support.hpp -- what the HTTP API e2e tests share: an
// `authstore serve` with --api.port 0 against a private redis-server (which
// tests may pause), and one-call helpers over http_client.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "messages/codec.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/e2e/remote_harness.hpp"

namespace http_test {

using authstore::json;
using authstore::private_redis;
using remote_test::serve_process;

/// A node with the HTTP API on a free port, and its private Redis.
struct api_node {
  std::unique_ptr<private_redis> redis;
  std::unique_ptr<serve_process> serve;

  uint16_t port() const { return serve->api_port(); }

  /// A new plain connection to the API.
  std::unique_ptr<connection> connect() const {
    auto c = connection::open(port());
    REQUIRE(c);
    return c;
  }
};

/// Starts Redis and `authstore serve --api.port 0 ARGS...` with the test
/// secret (or `env` instead).
inline api_node start_api_node(std::vector<std::string> args = {},
                               std::vector<std::string> env
                               = {"AUTHSTORE_SECRET=" + remote_test::secret}) {
  api_node n;
  auto r = private_redis::start();
  REQUIRE(r);
  n.redis = std::move(*r);
  args.insert(args.begin(), {"--api.port", "0"});
  n.serve = serve_process::start(n.redis->url(), args, env);
  REQUIRE(n.serve);
  REQUIRE(n.serve->api_port() != 0);
  return n;
}

/// `a` followed by `b` (command-line arguments).
inline std::vector<std::string> plus(std::vector<std::string> a,
                                     const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// The test secret's Authorization header.
inline std::string auth() {
  return bearer(remote_test::secret);
}

/// Sends one authenticated request on `c` and reads its response.
inline response call(connection& c, const std::string& method,
                     const std::string& target, const std::string& body = {}) {
  REQUIRE(c.send(request(method, target, body, {auth()})));
  auto r = c.read();
  REQUIRE(r);
  return *r;
}

/// The response body as JSON (fails the test when it is not JSON).
inline json body_of(const response& r) {
  INFO("body: " << r.body);
  auto j = json::parse(r.body, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

/// Checks the contract's error shape and returns the error token.
inline std::string error_of(const response& r) {
  auto j = body_of(r);
  INFO("body: " << r.body);
  REQUIRE(j.contains("error"));
  REQUIRE(j["message"].is_string());
  REQUIRE(j["retryable"].is_boolean());
  REQUIRE(j["may_have_applied"].is_boolean());
  CHECK(r.header("content-type") == "application/json");
  return j["error"].get<std::string>();
}

} // namespace http_test
