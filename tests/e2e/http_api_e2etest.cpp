// The HTTP API of `authstore serve` (issue #14, docs/HTTP-API.md) against a
// real process and a private redis-server: every route's body, every
// status of the contract's error table that bad input, auth and routing
// produce, and what reaches the engine (nothing, for a refused request).
// Limits, faults, keep-alive, pipelining and TLS: http_limits_e2etest.cpp.
#include "tests/e2e/http_api_support.hpp"

#include <thread>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace http_api_e2etest {

using namespace http_test;
using std::chrono::milliseconds;

namespace {

/// A Buffer in plain JSON.stringify form (number array), as a Node client
/// that forgot BufferJSON would send it: stored and returned as base64.
const std::string numarray = R"({"type":"Buffer","data":[1,2,3]})";
const std::string base64_form = R"({"type":"Buffer","data":"AQID"})";

} // namespace

TEST_CASE("the HTTP API writes, reads and deletes a session with the "
          "contract's bodies",
          "[http][api]") {
  auto node = start_api_node();
  auto c = node.connect();
  auto w = call(*c, "POST", "/v1/sessions/http-s1/write",
                R"({"creds":{"me":{"id":"x"},"noise":)" + numarray
                  + R"(},"keys":{"pre-key":{"1":)" + numarray
                  + R"(,"2":{"k":1}}}})");
  REQUIRE(w.status == 200);
  CHECK(w.header("content-type") == "application/json");
  CHECK(body_of(w) == json::parse(R"({"version":1})"));
  auto creds = call(*c, "GET", "/v1/sessions/http-s1/creds");
  REQUIRE(creds.status == 200);
  CHECK(body_of(creds)
        == json::parse(R"({"version":1,"creds":{"me":{"id":"x"},"noise":)"
                       + base64_form + "}}"));
  auto keys = call(*c, "POST", "/v1/sessions/http-s1/keys/pre-key/read",
                   R"({"ids":["1","2","3"]})");
  REQUIRE(keys.status == 200);
  CHECK(body_of(keys)
        == json::parse(R"({"version":1,"keys":{"1":)" + base64_form
                       + R"(,"2":{"k":1}}})"));
  auto none = call(*c, "POST", "/v1/sessions/http-s1/keys/session/read",
                   R"({"ids":["9"]})");
  CHECK(body_of(none) == json::parse(R"({"version":1,"keys":{}})"));
  // A second write: deletes by null, merges creds shallowly.
  auto w2 = call(*c, "POST", "/v1/sessions/http-s1/write",
                 R"({"creds":{"noise":null},"keys":{"pre-key":{"2":null}}})");
  CHECK(body_of(w2) == json::parse(R"({"version":2})"));
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-s1/creds"))
        == json::parse(R"({"version":2,"creds":{"me":{"id":"x"}}})"));
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-s1/exists"))
        == json::parse(R"({"exists":true})"));
  CHECK(body_of(call(*c, "POST", "/v1/sessions/http-s1/touch"))
        == json::parse(R"({"exists":true})"));
  // Batch: found, not found, invalid id -- one entry each, in order.
  auto batch = call(*c, "POST", "/v1/batch/creds",
                    R"({"sessions":["http-s1","http-none","bad{id}"]})");
  REQUIRE(batch.status == 200);
  auto results = body_of(batch)["results"];
  REQUIRE(results.size() == 3);
  CHECK(results[0] == json::parse(R"({"session":"http-s1","version":2,
                                      "creds":{"me":{"id":"x"}}})"));
  CHECK(results[1] == json::parse(R"({"session":"http-none","found":false})"));
  CHECK(results[2]["session"] == "bad{id}");
  CHECK(results[2]["error"] == "invalid_session_id");
  CHECK(results[2]["message"].is_string());
  // Delete, then the session is gone: 404 not_found only for that.
  CHECK(body_of(call(*c, "DELETE", "/v1/sessions/http-s1"))
        == json::parse(R"({"existed":true,"version":3})"));
  auto gone = call(*c, "GET", "/v1/sessions/http-s1/creds");
  CHECK(gone.status == 404);
  CHECK(error_of(gone) == "not_found");
  CHECK(body_of(gone)["retryable"] == false);
  CHECK(body_of(gone)["may_have_applied"] == false);
  CHECK(body_of(call(*c, "DELETE", "/v1/sessions/http-s1"))
        == json::parse(R"({"existed":false,"version":3})"));
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-s1/exists"))
        == json::parse(R"({"exists":false})"));
}

TEST_CASE("only /v1/health is served without the secret; a missing or "
          "wrong bearer token is 401 on every other /v1 path",
          "[http][auth]") {
  // Many refusals from one address on purpose: the per-address limit of
  // failed attempts (auth.max-failures, 10 by default; its 429 is tested in
  // api_service_test) is raised so every one of them reaches the check.
  auto node = start_api_node({"--auth.max-failures", "100000"});
  auto c = node.connect();
  REQUIRE(c->send(request("GET", "/v1/health")));
  auto health = c->read();
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(body_of(*health) == json::parse(R"({"status":"ok"})"));
  const std::vector<std::vector<std::string>> refused = {
    {},
    {"Authorization: Bearer wrong-secret-0123456789abc"},
    {"Authorization: Bearer " + remote_test::secret + "x"},
    {"Authorization: Basic " + remote_test::secret},
    {"Authorization: " + remote_test::secret},
  };
  for (const auto& headers : refused) {
    for (const auto& target :
         {"/v1/sessions/http-a/creds", "/v1/sessions/bad%7Bid/creds",
          "/v1/no/such/route"}) {
      INFO(target << (headers.empty() ? " without auth" : " " + headers[0]));
      REQUIRE(c->send(request("GET", target, {}, headers)));
      auto r = c->read();
      REQUIRE(r);
      CHECK(r->status == 401);
      CHECK(error_of(*r) == "unauthorized");
      CHECK(r->header("www-authenticate") == "Bearer");
    }
  }
  // The same connection still serves an authenticated request (a 401
  // without a body does not end it), and the scheme is case-insensitive.
  REQUIRE(c->send(request("GET", "/v1/sessions/http-a/exists", {},
                          {"Authorization: bearer " + remote_test::secret})));
  auto ok = c->read();
  REQUIRE(ok);
  CHECK(ok->status == 200);
}

TEST_CASE("the secret is checked before the body is read: a refused client "
          "announcing 8 MiB gets its 401 without sending a byte of it",
          "[http][auth]") {
  auto node = start_api_node();
  auto c = node.connect();
  REQUIRE(c->send("POST /v1/sessions/http-big/write HTTP/1.1\r\nHost: t\r\n"
                  "Authorization: Bearer nope-nope-nope-nope\r\n"
                  "Content-Type: application/json\r\n"
                  "Content-Length: 8388608\r\n\r\n"));
  auto t0 = std::chrono::steady_clock::now();
  auto r = c->read(milliseconds{3000});
  REQUIRE(r);
  CHECK(remote_test::elapsed_ms(t0) < 2000);
  CHECK(r->status == 401);
  CHECK(r->header("connection") == "close");
  CHECK(c->closed_within(milliseconds{3000}));
  // Nothing reached the engine.
  auto c2 = node.connect();
  CHECK(call(*c2, "GET", "/v1/sessions/http-big/exists").body
        == "{\"exists\":false}\n");
}

TEST_CASE("bad input is a 400 with its token, and nothing is applied",
          "[http][api]") {
  auto node = start_api_node(
    {"--codec.max-depth", "4", "--codec.max-value-bytes", "64"});
  auto c = node.connect();
  const std::vector<std::pair<std::string, std::string>> cases = {
    {"{\"creds\":", "bad_json"},
    {"not json at all", "bad_json"},
    {"[1,2]", "invalid_argument"},
    {R"({"creds":{"a":1},"extra":1})", "invalid_argument"},
    {R"({"creds":[1]})", "invalid_argument"},
    {R"({"creds":{"a":1},"expected_version":"3"})", "invalid_argument"},
    {R"({"creds":{"a":1},"expected_version":-1})", "invalid_argument"},
    {R"({"keys":{"bad type!":{"1":1}}})", "invalid_argument"},
    {R"({"creds":{"a":{"type":"Buffer","data":[1,300]}}})", "invalid_buffer"},
    {R"({"creds":{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}})", "too_deep"},
    {R"({"creds":{"a":")" + std::string(100, 'x') + R"("}})",
     "value_too_large"},
  };
  for (const auto& [body, token] : cases) {
    INFO(body);
    auto r = call(*c, "POST", "/v1/sessions/http-bad/write", body);
    CHECK(r.status == 400);
    CHECK(error_of(r) == token);
    CHECK(body_of(r)["retryable"] == false);
    CHECK(body_of(r)["may_have_applied"] == false);
  }
  for (const auto& body : {std::string{"{\"ids\":[1]}"}, std::string{"{}"},
                           std::string{"{\"ids\":\"1\"}"}}) {
    INFO(body);
    auto r = call(*c, "POST", "/v1/sessions/http-bad/keys/pre-key/read", body);
    CHECK(r.status == 400);
    CHECK(error_of(r) == "invalid_argument");
  }
  auto r = call(*c, "POST", "/v1/batch/creds", "{\"sessions\":");
  CHECK(r.status == 400);
  CHECK(error_of(r) == "bad_json");
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-bad/exists"))
        == json::parse(R"({"exists":false})"));
}

TEST_CASE("session ids are percent-decoded once and then allow-listed, "
          "before the engine",
          "[http][api]") {
  auto node = start_api_node();
  auto c = node.connect();
  const std::vector<std::string> invalid = {
    "bad%7Bid%7D",         // braces (Redis Cluster hash tags)
    "a%2Fb",               // an encoded slash stays in its segment
    "a%252Fb",             // decoded once: "a%2Fb", '%' not allowed
    "a%20b",               // space
    "a%zzb",               // not an escape
    "a%2",                 // truncated escape
    "%00",                 // NUL
    std::string(129, 'a'), // too long
    "",                    // empty segment
    "%C3%A9",              // non-ASCII
  };
  for (const auto& sid : invalid) {
    INFO("sid segment '" << sid << "'");
    auto r = call(*c, "GET", "/v1/sessions/" + sid + "/creds");
    CHECK(r.status == 400);
    CHECK(error_of(r) == "invalid_session_id");
  }
  // Escapes of allowed characters decode to the same session as the plain
  // id: written as "a@b:1", read as "a%40b%3A1".
  REQUIRE(
    call(*c, "POST", "/v1/sessions/a@b:1/write", R"({"creds":{"x":1}})").status
    == 200);
  auto read = call(*c, "GET", "/v1/sessions/a%40b%3A1/creds");
  CHECK(read.status == 200);
  CHECK(body_of(read)["creds"] == json::parse(R"({"x":1})"));
  // Key types: the same rule.
  auto bad_type = call(*c, "POST", "/v1/sessions/a@b:1/keys/pre%2Fkey/read",
                       R"({"ids":["1"]})");
  CHECK(bad_type.status == 400);
  CHECK(error_of(bad_type) == "invalid_argument");
}

TEST_CASE("unknown routes are 404 no_route, wrong methods 405 with Allow",
          "[http][api]") {
  auto node = start_api_node();
  auto c = node.connect();
  for (const auto& target :
       {"/", "/v1", "/v1/", "/v2/health", "/v1/sessions/x/creds/",
        "/v1/sessions/x/unknown", "/metrics"}) {
    INFO(target);
    auto r = call(*c, "GET", target);
    CHECK(r.status == 404);
    CHECK(error_of(r) == "no_route");
  }
  auto r = call(*c, "POST", "/v1/sessions/x/creds");
  CHECK(r.status == 405);
  CHECK(error_of(r) == "method_not_allowed");
  CHECK(r.header("allow") == "GET");
  CHECK(call(*c, "GET", "/v1/sessions/x").header("allow") == "DELETE");
  auto lease = call(*c, "GET", "/v1/sessions/x/lease");
  CHECK(lease.status == 405);
  CHECK(lease.header("allow") == "POST, DELETE");
  // Queries are ignored (a cache-buster does not change the route).
  CHECK(call(*c, "GET", "/v1/sessions/x/exists?t=1").status == 200);
}

TEST_CASE("a write at the wrong expected_version is 409 with the current "
          "version, and nothing is applied",
          "[http][api]") {
  auto node = start_api_node();
  auto c = node.connect();
  CHECK(body_of(call(*c, "POST", "/v1/sessions/http-v/write",
                     R"({"creds":{"a":1},"expected_version":0})"))
        == json::parse(R"({"version":1})"));
  auto conflict = call(*c, "POST", "/v1/sessions/http-v/write",
                       R"({"creds":{"a":2},"expected_version":0})");
  CHECK(conflict.status == 409);
  CHECK(error_of(conflict) == "version_conflict");
  CHECK(body_of(conflict)["current_version"] == 1);
  CHECK(body_of(conflict)["may_have_applied"] == false);
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-v/creds"))
        == json::parse(R"({"version":1,"creds":{"a":1}})"));
  CHECK(body_of(call(*c, "POST", "/v1/sessions/http-v/write",
                     R"({"creds":{"a":3},"expected_version":1})"))
        == json::parse(R"({"version":2})"));
}

TEST_CASE("the ids of one key type are listed, sorted, at the version "
          "read; an unknown type is accepted",
          "[http][api][list]") {
  auto node = start_api_node();
  auto c = node.connect();
  REQUIRE(call(*c, "POST", "/v1/sessions/http-l/write",
               R"({"keys":{"pre-key":{"2":1,"10":1,"1":1},"session":{"a":1},
                   "future-type":{"x":1}}})")
            .status
          == 200);
  auto list = call(*c, "GET", "/v1/sessions/http-l/keys/pre-key");
  REQUIRE(list.status == 200);
  CHECK(list.header("content-type") == "application/json");
  CHECK(body_of(list) == json::parse(R"({"version":1,"ids":["1","10","2"]})"));
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-l/keys/future-type"))
        == json::parse(R"({"version":1,"ids":["x"]})"));
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-none/keys/pre-key"))
        == json::parse(R"({"version":0,"ids":[]})"));
}

TEST_CASE("a lease is exclusive; a takeover fences the first holder's writes "
          "and its logout in the same atomic write",
          "[http][api][lease]") {
  auto node = start_api_node();
  auto c = node.connect();
  const std::string lease_path = "/v1/sessions/http-lease/lease";
  auto a = call(*c, "POST", lease_path, R"({"holder":"a","ttl_ms":30000})");
  REQUIRE(a.status == 200);
  CHECK(body_of(a) == json::parse(R"({"epoch":1,"ttl_ms":30000})"));
  // Renewing by the same holder keeps the epoch.
  CHECK(body_of(call(*c, "POST", lease_path, R"({"holder":"a"})"))["epoch"]
        == 1);
  auto b = call(*c, "POST", lease_path, R"({"holder":"b","ttl_ms":30000})");
  CHECK(b.status == 409);
  CHECK(error_of(b) == "session_in_use");
  CHECK(body_of(b)["holder_expires_in_ms"].is_number_unsigned());
  CHECK(body_of(b)["holder_expires_in_ms"] <= 30000);
  CHECK(body_of(b)["may_have_applied"] == false);
  const std::string write = "/v1/sessions/http-lease/write";
  CHECK(body_of(call(*c, "POST", write,
                     R"({"creds":{"me":1},"lease":{"holder":"a","epoch":1}})"))
        == json::parse(R"({"version":1})"));
  auto over = call(*c, "POST", lease_path,
                   R"({"holder":"b","ttl_ms":30000,"takeover":true})");
  REQUIRE(over.status == 200);
  CHECK(body_of(over)["epoch"] == 2);
  auto fenced = call(*c, "POST", write,
                     R"({"creds":{"me":2},"lease":{"holder":"a","epoch":1}})");
  CHECK(fenced.status == 409);
  CHECK(error_of(fenced) == "fenced");
  CHECK(body_of(fenced)["may_have_applied"] == false);
  auto logout = call(*c, "DELETE", "/v1/sessions/http-lease",
                     R"({"lease":{"holder":"a","epoch":1}})");
  CHECK(logout.status == 409);
  CHECK(error_of(logout) == "fenced");
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-lease/creds"))
        == json::parse(R"({"version":1,"creds":{"me":1}})"));
  // The old holder cannot release the new holder's lease.
  CHECK(body_of(call(*c, "DELETE", lease_path, R"({"holder":"a"})"))
        == json::parse(R"({"released":false})"));
  CHECK(body_of(call(*c, "POST", write,
                     R"({"creds":{"me":3},"lease":{"holder":"b","epoch":2}})"))
        == json::parse(R"({"version":2})"));
  CHECK(body_of(call(*c, "DELETE", "/v1/sessions/http-lease",
                     R"({"lease":{"holder":"b","epoch":2}})"))
        == json::parse(R"({"existed":true,"version":3})"));
  CHECK(body_of(call(*c, "DELETE", lease_path, R"({"holder":"b"})"))
        == json::parse(R"({"released":true})"));
  // The epoch counter survives release and delete.
  CHECK(body_of(call(*c, "POST", lease_path, R"({"holder":"c"})"))["epoch"]
        == 3);
  // No lease record for a session: a write carrying one is fenced.
  auto none = call(*c, "POST", "/v1/sessions/http-nolease/write",
                   R"({"creds":{"me":1},"lease":{"holder":"a","epoch":1}})");
  CHECK(none.status == 409);
  CHECK(error_of(none) == "fenced");
  CHECK(body_of(call(*c, "GET", "/v1/sessions/http-nolease/exists"))
        == json::parse(R"({"exists":false})"));
  // Bad lease bodies are 400, nothing taken.
  CHECK(call(*c, "POST", lease_path, R"({"holder":""})").status == 400);
  CHECK(call(*c, "POST", lease_path, R"({"holder":"x","ttl_ms":-1})").status
        == 400);
  CHECK(call(*c, "DELETE", lease_path, "{}").status == 400);
}

} // namespace http_api_e2etest
