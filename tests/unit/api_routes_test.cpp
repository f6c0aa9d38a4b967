// Tests of runtime/http/api_routes.hpp: every route of the contract with
// its method, 404/405, percent-decoding once, the allow-list, which paths
// need the secret.
#include "runtime/http/api_routes.hpp"

#include <catch2/catch.hpp>

#include "messages/session_id.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace api_routes_test {

using namespace authstore;

namespace {

const route_set api_only{true, false};
const route_set ops_only{false, true};
const route_set both{true, true};

} // namespace

TEST_CASE("every route of the contract matches its method and binds its "
          "parameters",
          "[http][routes]") {
  struct row {
    const char* method;
    const char* target;
    api_route route;
    const char* sid;
    const char* type;
  };
  const row rows[] = {
    {"GET", "/v1/health", api_route::health, "", ""},
    {"GET", "/v1/sessions/s1/creds", api_route::get_creds, "s1", ""},
    {"POST", "/v1/sessions/s1/keys/pre-key/read", api_route::read_keys, "s1",
     "pre-key"},
    {"GET", "/v1/sessions/s1/keys/app-state-sync-key", api_route::list_keys,
     "s1", "app-state-sync-key"},
    {"POST", "/v1/sessions/s1/write", api_route::write, "s1", ""},
    {"DELETE", "/v1/sessions/s1", api_route::delete_session, "s1", ""},
    {"GET", "/v1/sessions/s1/exists", api_route::exists, "s1", ""},
    {"POST", "/v1/sessions/s1/touch", api_route::touch, "s1", ""},
    {"POST", "/v1/batch/creds", api_route::batch_creds, "", ""},
    {"POST", "/v1/sessions/s1/lease", api_route::take_lease, "s1", ""},
    {"DELETE", "/v1/sessions/s1/lease", api_route::release_lease, "s1", ""},
  };
  for (const auto& r : rows) {
    INFO(r.method << " " << r.target);
    auto m = match_route(r.method, r.target, api_only);
    REQUIRE_FALSE(m.error);
    CHECK(m.route == r.route);
    CHECK(m.sid == r.sid);
    CHECK(m.type == r.type);
    // The API routes are not served on an ops-only listener.
    auto ops = match_route(r.method, r.target, ops_only);
    REQUIRE(ops.error);
    CHECK(ops.error->status == 404);
  }
  for (auto [target, route] : {std::pair{"/metrics", api_route::metrics},
                               std::pair{"/healthz", api_route::healthz},
                               std::pair{"/readyz", api_route::readyz}}) {
    INFO(target);
    CHECK(match_route("GET", target, ops_only).route == route);
    CHECK(match_route("GET", target, both).route == route);
    CHECK(match_route("GET", target, api_only).error->status == 404);
  }
}

TEST_CASE("a known path with the wrong method is 405 with Allow; an "
          "unknown one 404 no_route",
          "[http][routes]") {
  auto m = match_route("PUT", "/v1/sessions/s1/lease", api_only);
  REQUIRE(m.error);
  CHECK(m.error->status == 405);
  CHECK(m.error->token == "method_not_allowed");
  REQUIRE(m.error->headers.size() == 1);
  CHECK(m.error->headers[0]
        == std::pair<std::string, std::string>{"Allow", "POST, DELETE"});
  for (auto target :
       {"", "v1/health", "/", "/v1", "/v1/", "/v1/health/", "/v1/sessions",
        "/v1/sessions/s/creds/x", "/v1/batch/creds/x", "/V1/health"}) {
    INFO(target);
    auto n = match_route("GET", target, both);
    REQUIRE(n.error);
    CHECK(n.error->status == 404);
    CHECK(n.error->token == "no_route");
  }
  // A query does not change the route.
  CHECK(match_route("GET", "/v1/sessions/s/exists?x=/y", api_only).route
        == api_route::exists);
}

TEST_CASE("path parameters are percent-decoded once, then allow-listed",
          "[http][routes]") {
  CHECK(match_route("GET", "/v1/sessions/a%40b%3A1/creds", api_only).sid
        == "a@b:1");
  CHECK(match_route("GET", "/v1/sessions/A.b_c-d/creds", api_only).sid
        == "A.b_c-d");
  for (auto sid : {"bad%7Bid%7D", "bad{id}", "a%2Fb", "a%252Fb", "a%20b", "a+b",
                   "a%zz", "a%2", "a%", "%00", "", "%C3%A9"}) {
    INFO(sid);
    auto m = match_route("GET", std::string{"/v1/sessions/"} + sid + "/creds",
                         api_only);
    REQUIRE(m.error);
    CHECK(m.error->status == 400);
    CHECK(m.error->token == "invalid_session_id");
    CHECK(m.sid.empty());
  }
  auto longest = std::string(max_session_id_bytes, 'a');
  CHECK_FALSE(
    match_route("GET", "/v1/sessions/" + longest + "/creds", api_only).error);
  CHECK(match_route("GET", "/v1/sessions/" + longest + "a/creds", api_only)
          .error->token
        == "invalid_session_id");
  const std::string too_long(65, 't');
  for (auto type : {"pre%2Fkey", "bad!", "%", too_long.c_str()}) {
    INFO(type);
    auto m = match_route(
      "POST", std::string{"/v1/sessions/s/keys/"} + type + "/read", api_only);
    REQUIRE(m.error);
    CHECK(m.error->status == 400);
    CHECK(m.error->token == "invalid_argument");
  }
  CHECK(
    match_route("POST", "/v1/sessions/s/keys/lid-mapping/read", api_only).type
    == "lid-mapping");
}

TEST_CASE("percent_decode decodes each escape once and refuses broken ones",
          "[http][routes]") {
  CHECK(*percent_decode("a%41%62%2f%2F") == "aAb//");
  CHECK(*percent_decode("%25") == "%");
  CHECK(*percent_decode("%2525") == "%25");
  CHECK(*percent_decode("") == "");
  for (auto bad : {"%", "%4", "%g0", "%0g", "a%"}) {
    INFO(bad);
    auto d = percent_decode(bad);
    REQUIRE_FALSE(d);
    CHECK(d.error().code == errc::invalid_argument);
  }
}

TEST_CASE("every /v1 path but /v1/health needs the secret; the ops paths "
          "do not",
          "[http][routes][auth]") {
  CHECK_FALSE(needs_auth("/v1/health"));
  CHECK_FALSE(needs_auth("/v1/health?x"));
  CHECK_FALSE(needs_auth("/metrics"));
  CHECK_FALSE(needs_auth("/healthz"));
  CHECK_FALSE(needs_auth("/readyz"));
  CHECK(needs_auth("/v1/sessions/s/creds"));
  CHECK(needs_auth("/v1/no/such/route"));
  CHECK(needs_auth("/v1/health/x"));
  CHECK(needs_auth("/v1/healthz"));
  CHECK(is_write(api_route::write));
  CHECK(is_write(api_route::delete_session));
  CHECK_FALSE(is_write(api_route::get_creds));
  CHECK_FALSE(is_write(api_route::batch_creds));
}

} // namespace api_routes_test
