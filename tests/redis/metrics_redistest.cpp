// The HTTP endpoint after a real workload: every metric family present
// with a plausible value, health and readiness as JSON, readiness following
// Redis, and no session id or value in any output.
#include "runtime/engine/metrics.hpp"

#include <thread>

#include <catch2/catch.hpp>

#include "runtime/engine/engine_actors.hpp"
#include "runtime/http/endpoint.hpp"
#include "tests/http_get.hpp"
#include "tests/redis/redis_test_support.hpp"

#include <caf/all.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace metrics_redistest {

using namespace authstore;
using namespace authstore::test;

TEST_CASE("a scrape after a workload shows every metric family with "
          "plausible values",
          "[metrics]") {
  auto redis = start_redis();
  auto port = free_loopback_port();
  REQUIRE(port);
  auto e = start_engine(redis->url(), {{"http.port", std::to_string(*port)}});
  auto http = start_ops_http(*e);
  REQUIRE(http);
  REQUIRE((*http)->ops_port() == *port);
  auto sid = unique_sid("metrics-canary-sid");
  const std::string canary = "CANARY-VALUE-3f9a";
  for (int i = 0; i < 25; ++i)
    REQUIRE(e->set_json(sid, R"({"creds":{"secret":")" + canary + R"("}})"));
  REQUIRE(e->get_creds(sid));
  REQUIRE(e->get_creds(sid)); // cached
  auto missing = e->get_creds(unique_sid("metrics-missing"));
  REQUIRE(missing);
  CHECK_FALSE(missing->found);
  CHECK_FALSE(e->get_creds("bad{id}"));
  auto scrape = http_get(*port, "/metrics");
  REQUIRE(scrape.status == 200);
  const auto& m = scrape.body;
  for (const auto& name : metric_family_names()) {
    INFO(name);
    CHECK(m.find("# TYPE " + name + " ") != std::string::npos);
  }
  CHECK(sample(m, R"(authstore_operations_total{op="set",result="ok"})") == 25);
  CHECK(sample(m, R"(authstore_operations_total{op="get_creds",result="ok"})")
        == 2);
  CHECK(sample(
          m, R"(authstore_operations_total{op="get_creds",result="not_found"})")
        == 1);
  CHECK(
    sample(
      m,
      R"(authstore_operations_total{op="get_creds",result="invalid_session_id"})")
    == 1);
  CHECK(sample(m, R"(authstore_operation_duration_seconds_count{op="set"})")
        == 25);
  CHECK(sample(m, R"(authstore_reads_total{source="cache"})") == 1);
  CHECK(sample(m, R"(authstore_reads_total{source="miss"})") == 1);
  CHECK(sample(m, "authstore_session_actors") == 2);
  CHECK(sample(m, "authstore_session_activations_total") == 2);
  CHECK(sample(m, "authstore_redis_round_trips_total") >= 27);
  CHECK(sample(m, "authstore_redis_commands_total") >= 27);
  CHECK(sample(m, "process_resident_memory_bytes") > 1e6);
  CHECK(sample(m, "process_open_fds") > 3);
  CHECK(sample(m, "process_start_time_seconds") > 1.7e9);
  CHECK(m.find("authstore_build_info{") != std::string::npos);
  // Redis-only: the cold families are there, labelled backend="none".
  // (sample() answers -1 for an absent series too: look for the line.)
  CHECK(m.find("\n"
               R"(authstore_cold_breaker_state{backend="none"} -1)")
        != std::string::npos);
  // Bounded and secret-free: no session id, no value.
  CHECK(m.find("canary") == std::string::npos);
  CHECK(m.find(canary) == std::string::npos);
  auto health = http_get(*port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body.find(R"("status":"ok")") != std::string::npos);
  auto ready = http_get(*port, "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body.find(R"("status":"ready")") != std::string::npos);
  CHECK(http_get(*port, "/nope").status == 404);
}

TEST_CASE("readiness follows Redis: unready while it is down, ready after",
          "[metrics][invariant-5]") {
  auto redis = start_redis();
  auto port = free_loopback_port();
  REQUIRE(port);
  auto e = start_engine(redis->url(), {{"http.port", std::to_string(*port)},
                                       {"redis.command-timeout-ms", "200"},
                                       {"session.request-timeout-ms", "1000"}});
  auto http = start_ops_http(*e);
  REQUIRE(http);
  CHECK(http_get(*port, "/readyz").status == 200);
  redis->pause();
  auto start = std_clock::now();
  auto down = http_get(*port, "/readyz");
  CHECK(down.status == 503);
  CHECK(down.body.find(R"("status":"not_ready")") != std::string::npos);
  CHECK(ms_since(start) < 2000);
  CHECK(http_get(*port, "/healthz").status == 200); // alive all the same
  redis->resume();
  int status = 0;
  start = std_clock::now();
  while (status != 200 && ms_since(start) < 5000) {
    status = http_get(*port, "/readyz").status;
    if (status != 200)
      std::this_thread::sleep_for(milliseconds{50});
  }
  CHECK(status == 200);
}

TEST_CASE("health and metrics see an open cold-store breaker, and readiness "
          "stays green because writes continue",
          "[metrics][invariant-5]") {
  // The seed's health check could never see an open breaker.
  auto redis = start_redis();
  auto port = free_loopback_port();
  REQUIRE(port);
  auto e = start_engine(
    redis->url(),
    {{"http.port", std::to_string(*port)},
     {"mongodb.uri", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=200"}});
  auto http = start_ops_http(*e);
  REQUIRE(http);
  auto metrics = http_get(*port, "/metrics").body;
  // Every cold family is labelled with the store's backend().
  CHECK(sample(metrics, R"(authstore_cold_breaker_state{backend="mongodb"})")
        == 0);
  {
    caf::scoped_actor self{engine_system(*e)};
    self
      ->request(engine_cold(*e), std::chrono::seconds{2},
                force_open_atom::value)
      .receive([](cold_status& s) { CHECK(s.state_name == "forced_open"); },
               [](caf::error&) { FAIL("force_open failed"); });
  }
  auto ready = http_get(*port, "/readyz");
  CHECK(ready.status == 200);
  CHECK(ready.body.find(R"("cold_store":{)") != std::string::npos);
  CHECK(ready.body.find(R"("state":"forced_open")") != std::string::npos);
  metrics = http_get(*port, "/metrics").body;
  CHECK(sample(metrics, R"(authstore_cold_breaker_state{backend="mongodb"})")
        == 3);
  CHECK(
    sample(
      metrics,
      R"(authstore_cold_breaker_transitions_total{backend="mongodb",from="closed",to="forced_open"})")
    == 1);
  // The per-operation families carry the same label (no call was made).
  CHECK(
    sample(
      metrics,
      R"(authstore_cold_operations_total{backend="mongodb",op="persist",result="ok"})")
    == 0);
}

} // namespace metrics_redistest
