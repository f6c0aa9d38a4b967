// The HTTP API's protection and behaviour under faults (issue #14), against
// a real `authstore serve` and a private redis-server: body and header
// limits (413, 431), slow and idle clients dropped, 1 000 requests on one
// keep-alive connection, pipelined requests answered in order, in-flight
// bounds (429, per connection and per node), Redis paused (503, never
// 404), the engine's timeout (504) and the cold store down (503
// cold_unavailable, never 404) with scripted stand-ins for MongoDB (a
// silent TCP listener, a closed port; no real MongoDB here), the ops
// routes on the API's port, and SIGTERM answering what is in flight.
// HTTPS: http_tls_e2etest.cpp.
#include "tests/e2e/http_api_support.hpp"

#include <csignal>
#include <thread>

#include "tests/metrics_sample.hpp"
#include "tests/mongowire/mini_mongod.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace http_limits_e2etest {

using namespace http_test;
using remote_test::elapsed_ms;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;
using authstore::test::sample;
using authstore::test::wait_until;

namespace {

/// Settings under which a paused Redis fails calls fast and reads are
/// never answered from a session's cache.
const std::vector<std::string> fast_redis_faults
  = {"--redis.command-timeout-ms", "300", "--session.request-timeout-ms", "600",
     "--session.cache-max-age-ms", "0"};

std::string metrics_of(uint16_t port) {
  auto c = connection::open(port);
  REQUIRE(c);
  REQUIRE(c->send(request("GET", "/metrics")));
  auto r = c->read();
  REQUIRE(r);
  REQUIRE(r->status == 200);
  return r->body;
}

uint16_t free_port() {
  auto p = authstore::free_loopback_port();
  REQUIRE(p);
  return *p;
}

/// A TCP listener that accepts connections (the kernel does, into its
/// backlog) and never answers: a MongoDB that hangs.
struct silent_listener {
  int fd = -1;
  uint16_t port = 0;
  silent_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 64) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  ~silent_listener() { ::close(fd); }
};

} // namespace

TEST_CASE("a body over api.max-body-bytes is refused with 413 before it is "
          "sent, chunked or not",
          "[http][limits]") {
  auto node = start_api_node({"--api.max-body-bytes", "4096"});
  {
    auto c = node.connect();
    REQUIRE(c->send("POST /v1/sessions/big/write HTTP/1.1\r\nHost: t\r\n"
                    + auth() + "\r\nContent-Length: 4097\r\n\r\n"));
    auto r = c->read(milliseconds{2000});
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(error_of(*r) == "body_too_large");
    CHECK(body_of(*r)["may_have_applied"] == false);
    CHECK(r->header("connection") == "close");
    CHECK(c->closed_within(milliseconds{3000}));
  }
  {
    auto c = node.connect();
    std::string chunk(3000, 'x');
    REQUIRE(c->send("POST /v1/sessions/big/write HTTP/1.1\r\nHost: t\r\n"
                    + auth() + "\r\nTransfer-Encoding: chunked\r\n\r\n"));
    REQUIRE(c->send("bb8\r\n" + chunk + "\r\nbb8\r\n" + chunk + "\r\n"));
    auto r = c->read(milliseconds{2000});
    REQUIRE(r);
    CHECK(r->status == 413);
    CHECK(error_of(*r) == "body_too_large");
  }
  // At the limit it is read (and then judged as JSON).
  auto c = node.connect();
  auto r = call(*c, "POST", "/v1/sessions/big/write", std::string(4096, ' '));
  CHECK(r.status == 400);
  CHECK(error_of(r) == "bad_json");
  CHECK(body_of(call(*c, "GET", "/v1/sessions/big/exists"))
        == json::parse(R"({"exists":false})"));
}

TEST_CASE("headers over api.max-header-bytes get 431", "[http][limits]") {
  auto node = start_api_node({"--api.max-header-bytes", "1024"});
  auto c = node.connect();
  REQUIRE(c->send("GET /v1/health HTTP/1.1\r\nHost: t\r\nX-Pad: "
                  + std::string(2000, 'p') + "\r\n\r\n"));
  auto r = c->read(milliseconds{2000});
  REQUIRE(r);
  CHECK(r->status == 431);
  CHECK(error_of(*r) == "headers_too_large");
  CHECK(c->closed_within(milliseconds{3000}));
  auto ok = node.connect();
  REQUIRE(ok->send("GET /v1/health HTTP/1.1\r\nHost: t\r\nX-Pad: "
                   + std::string(500, 'p') + "\r\n\r\n"));
  auto fine = ok->read();
  REQUIRE(fine);
  CHECK(fine->status == 200);
}

TEST_CASE("a slow client is dropped after api.read-timeout-ms, an idle one "
          "after api.idle-timeout-ms",
          "[http][limits]") {
  auto ops = free_port();
  auto node
    = start_api_node({"--api.read-timeout-ms", "500", "--api.idle-timeout-ms",
                      "1500", "--http.port", std::to_string(ops)});
  // Half a request, then silence.
  auto half = node.connect();
  REQUIRE(half->send("GET /v1/health HTTP/1.1\r\nHost: t\r\n"));
  auto t0 = steady::now();
  CHECK(half->closed_within(milliseconds{3000}));
  CHECK(elapsed_ms(t0) >= 400);
  CHECK(elapsed_ms(t0) < 1400);
  CHECK_FALSE(half->read(milliseconds{10}));
  // A byte every 100 ms: still dropped 500 ms after its first byte, since
  // the deadline is for the whole request, not for each read.
  auto drip = node.connect();
  const std::string req = "GET /v1/health HTTP/1.1\r\nHost: t\r\nX: "
                          + std::string(40, 'd') + "\r\n\r\n";
  t0 = steady::now();
  bool dropped = false;
  for (char ch : req) {
    if (!drip->send(std::string(1, ch))
        || drip->closed_within(milliseconds{100})) {
      dropped = true;
      break;
    }
  }
  CHECK(dropped);
  CHECK(elapsed_ms(t0) < 1400);
  // Idle between requests: closed after the idle timeout, not the read
  // timeout (waiting for the next request is not a slow request).
  auto idle = node.connect();
  REQUIRE(idle->send(request("GET", "/v1/health")));
  REQUIRE(idle->read());
  t0 = steady::now();
  CHECK(idle->closed_within(milliseconds{4000}));
  CHECK(elapsed_ms(t0) >= 1300);
  auto m = metrics_of(ops);
  CHECK(
    sample(m,
           R"(authstore_api_dropped_connections_total{reason="read_timeout"})")
    >= 2);
  CHECK(
    sample(m,
           R"(authstore_api_dropped_connections_total{reason="idle_timeout"})")
    >= 1);
}

TEST_CASE("1 000 requests on one keep-alive connection", "[http][keepalive]") {
  auto node = start_api_node();
  auto c = node.connect();
  for (int i = 0; i < 1000; ++i) {
    INFO("request " << i);
    response r;
    if (i % 2 == 0) {
      r = call(*c, "POST", "/v1/sessions/ka/write",
               R"({"creds":{"n":)" + std::to_string(i)
                 + R"(},"expected_version":)" + std::to_string(i / 2) + "}");
      REQUIRE(r.status == 200);
      REQUIRE(r.body == "{\"version\":" + std::to_string(i / 2 + 1) + "}\n");
    } else {
      r = call(*c, "GET", "/v1/sessions/ka/creds");
      REQUIRE(r.status == 200);
      REQUIRE(body_of(r)["creds"]["n"] == i - 1);
    }
    REQUIRE(r.header("connection").empty());
  }
  CHECK_FALSE(c->closed_within(milliseconds{50}));
}

TEST_CASE("pipelined requests are answered in the order they were sent",
          "[http][pipelining]") {
  auto node = start_api_node();
  auto c = node.connect();
  // Writes with expected_version 0..19 in one send, with requests that are
  // answered at once (404, 401, health) in between: every reply waits for
  // the ones before it.
  std::string all;
  for (int i = 0; i < 20; ++i) {
    all += request("POST", "/v1/sessions/pipe/write",
                   R"({"creds":{"i":)" + std::to_string(i)
                     + R"(},"expected_version":)" + std::to_string(i) + "}",
                   {auth()});
    if (i % 5 == 1)
      all += request("GET", "/v1/nope", {}, {auth()});
    if (i % 5 == 2)
      all += request("GET", "/v1/sessions/pipe/creds");
    if (i % 5 == 3)
      all += request("GET", "/v1/health");
  }
  REQUIRE(c->send(all));
  for (int i = 0; i < 20; ++i) {
    INFO("write " << i);
    auto w = c->read();
    REQUIRE(w);
    CHECK(w->status == 200);
    CHECK(w->body == "{\"version\":" + std::to_string(i + 1) + "}\n");
    if (i % 5 == 1) {
      auto r = c->read();
      REQUIRE(r);
      CHECK(r->status == 404);
    }
    if (i % 5 == 2) {
      auto r = c->read();
      REQUIRE(r);
      CHECK(r->status == 401);
    }
    if (i % 5 == 3) {
      auto r = c->read();
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(r->body == "{\"status\":\"ok\"}\n");
    }
  }
}

TEST_CASE("429 overloaded when a connection or the node has too many "
          "requests in flight; nothing is applied",
          "[http][limits]") {
  auto node = start_api_node(
    plus({"--api.max-in-flight-per-connection", "2"}, fast_redis_faults));
  auto c = node.connect();
  node.redis->pause();
  std::string four;
  for (int i = 0; i < 4; ++i)
    four += request("GET", "/v1/sessions/busy-" + std::to_string(i) + "/creds",
                    {}, {auth()});
  REQUIRE(c->send(four));
  std::vector<response> rs;
  for (int i = 0; i < 4; ++i) {
    auto r = c->read();
    REQUIRE(r);
    rs.push_back(*r);
  }
  for (int i : {0, 1}) {
    INFO("in flight " << i << ": " << rs[i].body);
    CHECK(rs[i].status != 404);
    CHECK((rs[i].status == 503 || rs[i].status == 504));
  }
  for (int i : {2, 3}) {
    INFO("refused " << i);
    CHECK(rs[i].status == 429);
    CHECK(error_of(rs[i]) == "overloaded");
    CHECK(body_of(rs[i])["retryable"] == true);
    CHECK(body_of(rs[i])["may_have_applied"] == false);
  }
  node.redis->resume();
}

TEST_CASE("429 overloaded when the node's in-flight bound is hit",
          "[http][limits]") {
  auto node
    = start_api_node(plus({"--api.max-in-flight", "1"}, fast_redis_faults));
  auto a = node.connect();
  auto b = node.connect();
  node.redis->pause();
  REQUIRE(a->send(request("GET", "/v1/sessions/n1/creds", {}, {auth()})));
  std::this_thread::sleep_for(milliseconds{50}); // a's request is in flight
  auto t0 = steady::now();
  REQUIRE(b->send(request("GET", "/v1/sessions/n2/creds", {}, {auth()})));
  auto rb = b->read(milliseconds{2000});
  REQUIRE(rb);
  CHECK(rb->status == 429);
  CHECK(elapsed_ms(t0) < 250); // refused at once, not after a's timeout
  auto ra = a->read();
  REQUIRE(ra);
  CHECK(ra->status != 429);
  node.redis->resume();
  // The bound is free again: b's next request is admitted (and answered
  // 200 once the Redis connection is back; its reconnect backs off).
  CHECK(wait_until(
    [&] {
      auto status = call(*b, "GET", "/v1/sessions/n2/exists").status;
      CHECK(status != 429);
      return status == 200;
    },
    milliseconds{5000}, milliseconds{50}));
}

TEST_CASE("Redis paused: 503 hot_unavailable, never 404; a write says it "
          "may have been applied",
          "[http][faults][invariant-4]") {
  auto node = start_api_node(fast_redis_faults);
  auto c = node.connect();
  REQUIRE(
    call(*c, "POST", "/v1/sessions/p1/write", R"({"creds":{"a":1}})").status
    == 200);
  node.redis->pause();
  for (const auto* sid : {"p1", "p-missing"}) {
    INFO(sid);
    auto r = call(*c, "GET", std::string{"/v1/sessions/"} + sid + "/creds");
    CHECK(r.status == 503);
    CHECK(error_of(r) == "hot_unavailable");
    CHECK(body_of(r)["retryable"] == true);
    CHECK(body_of(r)["may_have_applied"] == false);
  }
  auto w = call(*c, "POST", "/v1/sessions/p1/write", R"({"creds":{"a":2}})");
  CHECK(w.status == 503);
  CHECK(error_of(w) == "hot_unavailable");
  CHECK(body_of(w)["may_have_applied"] == true);
  node.redis->resume();
  CHECK(wait_until(
    [&] { return call(*c, "GET", "/v1/sessions/p1/creds").status == 200; },
    milliseconds{5000}, milliseconds{50}));
}

TEST_CASE("a cold store that hangs gives 504 timeout; one that is down "
          "gives 503 cold_unavailable; an unknown session is never 404",
          "[http][faults][invariant-4]") {
  // serve checks its cold store before it listens (issue #15: an
  // unreachable one is exit 2), so the store is up at start and fails after:
  // mini_mongod, a MongoDB wire server in Python (no real MongoDB here).
  SECTION("hanging (mini_mongod SIGSTOPped after serve started)") {
    authstore::test::mini_mongod mongo;
    REQUIRE(mongo.port() != 0);
    auto node = start_api_node(
      {"--mongodb.uri",
       mongo.uri("serverSelectionTimeoutMS=20000&connectTimeoutMS=20000"),
       "--cold.call-timeout-ms", "500"});
    mongo.pause();
    auto c = node.connect();
    auto r = call(*c, "GET", "/v1/sessions/cold-1/creds");
    CHECK(r.status == 504);
    CHECK(error_of(r) == "timeout");
    CHECK(body_of(r)["retryable"] == true);
    CHECK(body_of(r)["may_have_applied"] == false);
    auto w = call(*c, "POST", "/v1/sessions/cold-2/write", R"({"creds":{}})");
    CHECK(w.status == 504);
    CHECK(body_of(w)["may_have_applied"] == true);
  }
  SECTION("down (mini_mongod killed after serve started)") {
    authstore::test::mini_mongod mongo;
    REQUIRE(mongo.port() != 0);
    auto node = start_api_node(
      {"--mongodb.uri", mongo.uri("serverSelectionTimeoutMS=200")});
    mongo.kill();
    auto c = node.connect();
    auto r = call(*c, "GET", "/v1/sessions/cold-3/creds");
    CHECK(r.status == 503);
    CHECK(error_of(r) == "cold_unavailable");
    auto e = call(*c, "GET", "/v1/sessions/cold-3/exists");
    CHECK(e.status == 503);
  }
}

TEST_CASE("with http.port equal to api.port one listener serves the API and "
          "/metrics, /healthz, /readyz, which need no secret",
          "[http][ops]") {
  auto port = free_port();
  auto node = start_api_node(
    {"--api.port", std::to_string(port), "--http.port", std::to_string(port)});
  REQUIRE(node.port() == port);
  auto c = node.connect();
  CHECK(
    call(*c, "POST", "/v1/sessions/ops-1/write", R"({"creds":{"a":1}})").status
    == 200);
  for (const auto* path : {"/healthz", "/readyz"}) {
    INFO(path);
    REQUIRE(c->send(request("GET", path)));
    auto r = c->read();
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(*r).contains("status"));
  }
  auto m = metrics_of(port);
  CHECK(sample(m, R"(authstore_api_requests_total{route="write",status="200"})")
        == 1);
  CHECK(
    sample(m, R"(authstore_api_requests_total{route="healthz",status="200"})")
    == 1);
  CHECK(sample(m, R"(authstore_operations_total{op="set",result="ok"})") == 1);
  CHECK(sample(m, "authstore_api_open_connections") >= 1);
  CHECK(
    m.find("authstore_api_request_duration_seconds_count{route=\"write\"} 1")
    != std::string::npos);
}

TEST_CASE("SIGTERM answers the HTTP requests in flight, then serve exits 0",
          "[http][lifecycle]") {
  auto node = start_api_node(fast_redis_faults);
  auto c = node.connect();
  node.redis->pause();
  REQUIRE(c->send(request("GET", "/v1/sessions/term/creds", {}, {auth()})));
  std::this_thread::sleep_for(milliseconds{50});
  node.serve->signal(SIGTERM);
  auto r = c->read(milliseconds{5000});
  REQUIRE(r);
  CHECK(r->status == 503);
  node.redis->resume();
  CHECK(node.serve->wait(milliseconds{10000}) == 0);
}

TEST_CASE("HTTP/1.0 and Connection: close end the connection after the "
          "reply, also for a request refused from its head",
          "[http][keepalive]") {
  auto node = start_api_node({"--api.idle-timeout-ms", "30000"});
  for (const auto& req :
       {std::string{"GET /v1/health HTTP/1.0\r\n\r\n"},
        std::string{"GET /v1/nope HTTP/1.0\r\n\r\n"},
        std::string{"GET /v1/sessions/x/creds HTTP/1.0\r\n\r\n"},
        request("GET", "/v1/nope", {}, {auth(), "Connection: close"}),
        request("GET", "/v1/sessions/x/exists", {},
                {auth(), "Connection: close"})}) {
    INFO(req);
    auto c = node.connect();
    REQUIRE(c->send(req));
    auto r = c->read(milliseconds{2000});
    REQUIRE(r);
    CHECK(r->header("connection") == "close");
    auto t0 = steady::now();
    CHECK(c->closed_within(milliseconds{2000}));
    CHECK(elapsed_ms(t0) < 1500);
  }
  // HTTP/1.0 with keep-alive is kept (and told so).
  auto c = node.connect();
  REQUIRE(c->send("GET /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  auto r = c->read();
  REQUIRE(r);
  CHECK(r->header("connection") == "keep-alive");
  REQUIRE(c->send("GET /v1/health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(c->read());
}

TEST_CASE("wrong bearer tokens from one address are answered 401 up to "
          "auth.max-failures, then 429 auth_rate_limited -- the right token "
          "too -- counted in /metrics, until the window ends",
          "[http][auth][limits]") {
  // README "Failed authentication": a source that failed auth.max-failures
  // times within auth.failure-window-s of its first failure is refused
  // without a secret check until that window ends; /v1/health needs no
  // secret and is not limited. Window 4 s: long enough that the limited
  // phase below fits in it on a loaded machine (checked), short to wait.
  constexpr int max_failures = 3;
  constexpr int window_ms = 4000;
  auto ops = free_port();
  auto node = start_api_node(
    {"--auth.max-failures", std::to_string(max_failures),
     "--auth.failure-window-s", std::to_string(window_ms / 1000), "--http.port",
     std::to_string(ops)});
  const std::string target = "/v1/sessions/http-limited/exists";
  // One request on a new connection from 127.0.0.1 (every connection of
  // this test has that source address).
  auto ask
    = [&](const std::vector<std::string>& headers, const std::string& path) {
        auto c = node.connect();
        REQUIRE(c->send(request("GET", path, {}, headers)));
        auto r = c->read();
        REQUIRE(r);
        return *r;
      };
  const std::vector<std::string> good = {auth()};
  const std::vector<std::string> wrong
    = {"Authorization: Bearer wrong-secret-0123456789abc"};
  // A good token before any failure passes and counts nothing.
  CHECK(ask(good, target).status == 200);
  auto first_failure = steady::now();
  for (int i = 0; i < max_failures; ++i) {
    INFO("failure " << i + 1);
    auto r = ask(wrong, target);
    CHECK(r.status == 401);
    CHECK(error_of(r) == "unauthorized");
  }
  // Limited: the next wrong token, and the right one, are refused unchecked.
  auto limited = ask(wrong, target);
  CHECK(limited.status == 429);
  CHECK(error_of(limited) == "auth_rate_limited");
  auto good_refused = ask(good, target);
  CHECK(good_refused.status == 429);
  CHECK(error_of(good_refused) == "auth_rate_limited");
  CHECK(body_of(good_refused)["retryable"] == false);
  // No secret, no limit.
  CHECK(ask({}, "/v1/health").status == 200);
  auto m = metrics_of(ops);
  CHECK(sample(m, R"(authstore_auth_failures_total{port="http"})")
        == max_failures);
  CHECK(sample(m, R"(authstore_auth_rate_limited_total{port="http"})") == 2);
  // The refusals above fell inside the window (else they prove nothing).
  REQUIRE(elapsed_ms(first_failure) < window_ms);
  // After the window: the right token passes again, and a wrong one is a
  // plain 401 (the first failure of a new window).
  std::this_thread::sleep_for(
    milliseconds{window_ms + 300 - elapsed_ms(first_failure)});
  auto again = ask(good, target);
  CHECK(again.status == 200);
  CHECK(body_of(again)["exists"] == false);
  CHECK(ask(wrong, target).status == 401);
  m = metrics_of(ops);
  CHECK(sample(m, R"(authstore_auth_failures_total{port="http"})")
        == max_failures + 1);
  CHECK(sample(m, R"(authstore_auth_rate_limited_total{port="http"})") == 2);
}

} // namespace http_limits_e2etest
