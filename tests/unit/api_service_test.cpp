// Tests of runtime/http/api_service.hpp without an engine: the bearer
// check, what on_head refuses before a body is read, and how refusals are
// counted (by route and status).
#include "runtime/http/api_service.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace api_service_test {

using namespace authstore;

namespace {

const std::string secret = "unit-secret-0123456789";

struct fixture {
  std::unique_ptr<api_counters> counters = std::make_unique<api_counters>();
  api_service uut{api_service_config{secret, route_set{true, true}}, nullptr,
                  *counters};

  uint64_t count(api_route r, int status) const {
    return counters->requests[static_cast<size_t>(r)][api_status_slot(status)]
      .load();
  }
};

http_head head(std::string method, std::string target, std::string auth = {},
               bool body = false) {
  return {std::move(method), std::move(target), std::move(auth), body, {}};
}

} // namespace

TEST_CASE("the bearer token must be the secret exactly", "[http][auth]") {
  fixture f;
  CHECK(f.uut.authorized("Bearer " + secret));
  CHECK(f.uut.authorized("bearer " + secret));
  CHECK(f.uut.authorized("BEARER   " + secret));
  for (const std::string& bad : std::vector<std::string>{
         "", "Bearer", "Bearer ", secret, "Basic " + secret,
         "Bearer " + secret + " ", "Bearer " + secret + "x",
         "Bearer " + secret.substr(1), "Bearer" + secret,
         "Bearer " + std::string(secret.size(), 'x')}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(f.uut.authorized(bad));
  }
  auto counters = std::make_unique<api_counters>();
  api_service open{api_service_config{"", route_set{}}, nullptr, *counters};
  CHECK(open.authorized(""));
  CHECK(open.authorized("Bearer anything"));
}

TEST_CASE("on_head refuses before the body: 401 first, then routing",
          "[http][auth]") {
  fixture f;
  auto r = f.uut.on_head(head("POST", "/v1/sessions/s/write", "", true));
  REQUIRE(r);
  CHECK(r->status == 401);
  CHECK(f.count(api_route::write, 401) == 1);
  // Unknown routes and bad ids are not revealed without the secret.
  CHECK(f.uut.on_head(head("GET", "/v1/sessions/bad%7B/creds"))->status == 401);
  CHECK(f.uut.on_head(head("GET", "/v1/nope"))->status == 401);
  CHECK(f.count(api_route::unknown, 401) == 2);
  auto ok = "Bearer " + secret;
  CHECK_FALSE(f.uut.on_head(head("POST", "/v1/sessions/s/write", ok, true)));
  CHECK(f.uut.on_head(head("GET", "/v1/nope", ok))->status == 404);
  CHECK(f.uut.on_head(head("GET", "/v1/sessions/bad%7B/creds", ok))->status
        == 400);
  CHECK(f.uut.on_head(head("PUT", "/v1/sessions/s/creds", ok))->status == 405);
  // Health and the ops routes need no secret.
  CHECK_FALSE(f.uut.on_head(head("GET", "/v1/health")));
  CHECK_FALSE(f.uut.on_head(head("GET", "/metrics")));
  CHECK(f.count(api_route::unknown, 404) == 1);
  f.uut.on_server_reply(nullptr, 431);
  std::string target = "/v1/sessions/s/write";
  f.uut.on_server_reply(&target, 413);
  CHECK(f.count(api_route::unknown, 431) == 1);
  CHECK(f.count(api_route::write, 413) == 1);
}

TEST_CASE("during a rotation the previous bearer secret is accepted too",
          "[http][auth][rotation]") {
  auto counters = std::make_unique<api_counters>();
  api_service_config cfg{secret, route_set{true, true}};
  cfg.previous_secret = "old-unit-secret-0123456789";
  api_service uut{cfg, nullptr, *counters};
  CHECK(uut.authorized("Bearer " + secret));
  CHECK(uut.authorized("Bearer old-unit-secret-0123456789"));
  CHECK_FALSE(uut.authorized("Bearer other-unit-secret-0123456789"));
  CHECK_FALSE(uut.authorized("Bearer "));
}

TEST_CASE("failed bearer checks are limited per client address and counted",
          "[http][auth][rate-limit]") {
  auto counters = std::make_unique<api_counters>();
  security_counters security;
  api_service_config cfg{secret, route_set{true, true}};
  auth_limiter::config lc;
  lc.max_failures = 3;
  cfg.limiter = std::make_shared<auth_limiter>(lc);
  cfg.security = &security;
  api_service uut{cfg, nullptr, *counters};
  auto from = [](std::string peer, std::string auth) {
    auto h = head("GET", "/v1/sessions/s/creds", std::move(auth));
    h.peer = std::move(peer);
    return h;
  };
  for (int i = 0; i < 3; ++i) {
    auto r = uut.on_head(from("10.1.1.1", "Bearer wrong"));
    REQUIRE(r);
    CHECK(r->status == 401);
  }
  // Over the limit: refused before the secret is looked at, even the right
  // one; other addresses are untouched.
  auto limited = uut.on_head(from("10.1.1.1", "Bearer " + secret));
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK_THAT(limited->body, Catch::Contains("auth_rate_limited"));
  CHECK_FALSE(uut.on_head(from("10.1.1.2", "Bearer " + secret)));
  CHECK(security.auth_failures[static_cast<size_t>(auth_port::http)] == 3);
  CHECK(security.auth_limited[static_cast<size_t>(auth_port::http)] == 1);
  // /v1/health needs no secret and is not limited either.
  auto health = head("GET", "/v1/health");
  health.peer = "10.1.1.1";
  CHECK_FALSE(uut.on_head(health));
}

} // namespace api_service_test
