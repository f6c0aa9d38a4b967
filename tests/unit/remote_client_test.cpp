// Tests of runtime/remote/client.hpp that need no server: endpoints, how
// options come from the configuration, and which errors may have been
// applied. The client against real servers: tests/e2e/remote_*_e2etest.cpp.
#include "runtime/remote/client.hpp"

#include <cstdlib>

#include <catch2/catch.hpp>

#include "runtime/remote/auth.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_client_test {

using namespace authstore;

TEST_CASE("endpoints parse as HOST:PORT or [IPv6]:PORT", "[remote]") {
  auto v4 = parse_endpoint("127.0.0.1:7447");
  REQUIRE(v4);
  CHECK(v4->first == "127.0.0.1");
  CHECK(v4->second == 7447);
  auto name = parse_endpoint("store.internal:1");
  REQUIRE(name);
  CHECK(name->first == "store.internal");
  auto v6 = parse_endpoint("[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->first == "::1");
  CHECK(v6->second == 65535);
  for (auto bad : {"", "host", "host:", ":7447", "host:0", "host:65536",
                   "host:7x", "::1:7447", "[::1]7447", "[::1]:"}) {
    INFO(bad);
    auto r = parse_endpoint(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
}

TEST_CASE("remote options come from the remote.* settings and the secret "
          "from the environment",
          "[remote]") {
  ::setenv(secret_env_var, "unit-test-secret-0123456789", 1);
  auto s = settings::load({{"remote.request-timeout-ms", "7000"},
                           {"remote.heartbeat-ms", "250"},
                           {"remote.connection-timeout-ms", "900"}});
  REQUIRE(s);
  auto o = remote_options::from(*s);
  ::unsetenv(secret_env_var);
  REQUIRE(o);
  CHECK(o->secret == "unit-test-secret-0123456789");
  CHECK(o->request_timeout.count() == 7000);
  CHECK(o->heartbeat.count() == 250);
  CHECK(o->connection_timeout.count() == 900);
  CHECK(o->protocol_version == remote_options{}.protocol_version);
}

TEST_CASE("a connection timeout within two heartbeats is a configuration "
          "error",
          "[remote]") {
  auto s = settings::load(
    {{"remote.heartbeat-ms", "500"}, {"remote.connection-timeout-ms", "1000"}});
  REQUIRE_FALSE(s);
  CHECK(s.error().detail.find("remote.connection-timeout-ms")
        != std::string::npos);
}

TEST_CASE("only a timeout leaves the outcome of a request unknown",
          "[remote]") {
  CHECK(remote_client::may_have_been_applied({errc::timeout, ""}));
  for (auto code :
       {errc::unreachable, errc::unauthorized, errc::protocol_mismatch,
        errc::overloaded, errc::shutting_down, errc::value_too_large,
        errc::version_conflict})
    CHECK_FALSE(remote_client::may_have_been_applied({code, ""}));
}

TEST_CASE("connecting to a closed port fails at once as unreachable",
          "[remote]") {
  auto opts = remote_options{};
  opts.threads = 1;
  auto c = remote_client::connect("127.0.0.1", 1, opts);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::unreachable);
  CHECK(c.error().detail.find("127.0.0.1:1") != std::string::npos);
}

} // namespace remote_client_test
