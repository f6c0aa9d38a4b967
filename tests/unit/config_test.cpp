// Tests of runtime/node/config.hpp: precedence, validation naming the setting,
// secrets redacted.
#include "runtime/node/config.hpp"

#include <cstdlib>
#include <fstream>

#include <catch2/catch.hpp>

using namespace authstore;

namespace {

/// Sets an environment variable for the scope of one test.
struct env_var {
  std::string name;
  env_var(std::string n, const std::string& value) : name(std::move(n)) {
    ::setenv(name.c_str(), value.c_str(), 1);
  }
  ~env_var() { ::unsetenv(name.c_str()); }
};

std::string write_file(const std::string& text) {
  std::string path = "/tmp/authstore-config-test.conf";
  std::ofstream{path} << text;
  return path;
}

} // namespace

TEST_CASE("defaults apply when nothing else is given", "[config]") {
  auto s = settings::load({});
  REQUIRE(s);
  CHECK(s->integer("redis.pool-size") == 2);
  CHECK(s->text("redis.url") == "redis://127.0.0.1:6379/0");
}

TEST_CASE("flags beat environment, which beats the file, which beats the "
          "default",
          "[config]") {
  auto file = write_file("# comment\nredis.pool-size = 3\n"
                         "session.max-live = 7\ncodec.max-depth=9\n");
  env_var e1{"AUTHSTORE_REDIS_POOL_SIZE", "4"};
  env_var e2{"AUTHSTORE_SESSION_MAX_LIVE", "8"};
  auto s = settings::load({{"config", file}, {"redis.pool-size", "5"}});
  REQUIRE(s);
  CHECK(s->integer("redis.pool-size") == 5);  // flag
  CHECK(s->integer("session.max-live") == 8); // env over file
  CHECK(s->integer("codec.max-depth") == 9);  // file over default
  auto d = s->describe();
  CHECK(d.find("redis.pool-size = 5  # --redis.pool-size")
        != std::string::npos);
  CHECK(d.find("session.max-live = 8  # AUTHSTORE_SESSION_MAX_LIVE")
        != std::string::npos);
}

TEST_CASE("the --redis alias sets redis.url", "[config]") {
  auto s = settings::load({{"redis", "redis://10.1.1.1:7000/1"}});
  REQUIRE(s);
  CHECK(s->text("redis.url") == "redis://10.1.1.1:7000/1");
}

TEST_CASE("every bad setting is reported with its name", "[config]") {
  std::vector<failure> problems;
  auto s = settings::load({{"redis.pool-size", "0"},
                           {"codec.max-depth", "deep"},
                           {"no.such-key", "1"}},
                          &problems);
  REQUIRE_FALSE(s);
  REQUIRE(problems.size() == 3);
  for (const auto& p : problems)
    CHECK(p.code == errc::invalid_config);
  auto all = problems[0].detail + problems[1].detail + problems[2].detail;
  CHECK(all.find("redis.pool-size") != std::string::npos);
  CHECK(all.find("codec.max-depth") != std::string::npos);
  CHECK(all.find("no.such-key") != std::string::npos);
}

TEST_CASE("bounds are inclusive", "[config]") {
  CHECK(settings::load({{"redis.pool-size", "64"}}));
  CHECK_FALSE(settings::load({{"redis.pool-size", "65"}}));
  CHECK(settings::load({{"redis.pool-size", "1"}}));
}

TEST_CASE("a malformed config file line names file and line", "[config]") {
  auto file = write_file("redis.pool-size = 2\nthis is not a setting\n");
  std::vector<failure> problems;
  REQUIRE_FALSE(settings::load({{"config", file}}, &problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].detail.find(file + ":2") != std::string::npos);
  CHECK_FALSE(settings::load({{"config", "/nonexistent/authstore.conf"}}));
}

TEST_CASE("a hot TTL needs a cold store to read expired sessions back from",
          "[config][invariant-4][invariant-6]") {
  std::vector<failure> problems;
  REQUIRE_FALSE(settings::load({{"redis.hot-ttl-s", "60"}}, &problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].detail.find("redis.hot-ttl-s") != std::string::npos);
  CHECK(problems[0].detail.find("needs mongodb.uri") != std::string::npos);
  auto with_cold = settings::load(
    {{"redis.hot-ttl-s", "60"}, {"mongodb.uri", "mongodb://127.0.0.1:27017"}});
  REQUIRE(with_cold);
  CHECK(with_cold->integer("redis.hot-ttl-s") == 60);
  CHECK(settings::load({{"redis.hot-ttl-s", "0"}}));
}

TEST_CASE("outbox settings are bounded and checked together", "[config]") {
  std::vector<failure> problems;
  CHECK_FALSE(settings::load({{"outbox.interval-ms", "0"}}, &problems));
  problems.clear();
  REQUIRE_FALSE(settings::load(
    {{"outbox.backoff-base-ms", "5000"}, {"outbox.backoff-max-ms", "1000"}},
    &problems));
  CHECK(problems[0].detail.find("outbox.backoff-max-ms") != std::string::npos);
  auto s = settings::load({});
  REQUIRE(s);
  CHECK(s->integer("outbox.interval-ms") == 1000);
  CHECK(s->boolean("outbox.reconcile"));
}

TEST_CASE("passwords in URLs never show in describe()", "[config]") {
  auto s = settings::load({{"redis", "redis://user:hunter2@h:1/0"},
                           {"mongodb", "mongodb://u:pw123@m:27017/db"}});
  REQUIRE(s);
  auto d = s->describe();
  CHECK(d.find("hunter2") == std::string::npos);
  CHECK(d.find("pw123") == std::string::npos);
  CHECK(d.find("redis://user:***@h:1/0") != std::string::npos);
  CHECK(redact_url("redis://:p@h") == "redis://:***@h");
  CHECK(redact_url("redis://h:1") == "redis://h:1");
}

TEST_CASE("environment variable names derive from the key", "[config]") {
  CHECK(env_name("redis.url") == "AUTHSTORE_REDIS_URL");
  CHECK(env_name("mongodb.uri") == "AUTHSTORE_MONGODB_URI");
  CHECK(env_name("session.idle-passivate-s")
        == "AUTHSTORE_SESSION_IDLE_PASSIVATE_S");
}

TEST_CASE("TLS is off by default and its three files come together",
          "[config][tls]") {
  auto s = settings::load({});
  REQUIRE(s);
  CHECK(s->text("remote.tls-cert").empty());
  CHECK(s->text("remote.tls-key").empty());
  CHECK(s->text("remote.tls-ca").empty());
  std::vector<failure> problems;
  REQUIRE_FALSE(settings::load(
    {{"remote.tls-cert", "/c.pem"}, {"remote.tls-key", "/k.pem"}}, &problems));
  CHECK(problems[0].code == errc::invalid_config);
  CHECK(problems[0].detail.find("remote.tls-ca must be set too")
        != std::string::npos);
  problems.clear();
  REQUIRE_FALSE(settings::load({{"remote.tls-ca", "/ca.pem"}}, &problems));
  CHECK(problems[0].detail.find("remote.tls-cert, remote.tls-key")
        != std::string::npos);
  auto all = settings::load({{"remote.tls-cert", "/c.pem"},
                             {"remote.tls-key", "/k.pem"},
                             {"remote.tls-ca", "/ca.pem"}});
  REQUIRE(all);
  CHECK(all->text("remote.tls-ca") == "/ca.pem");
}

TEST_CASE("TLS files can come from the environment", "[config][tls]") {
  env_var cert{"AUTHSTORE_REMOTE_TLS_CERT", "/e/c.pem"};
  env_var key{"AUTHSTORE_REMOTE_TLS_KEY", "/e/k.pem"};
  env_var ca{"AUTHSTORE_REMOTE_TLS_CA", "/e/ca.pem"};
  auto s = settings::load({{"remote.tls-ca", "/flag/ca.pem"}});
  REQUIRE(s);
  CHECK(s->text("remote.tls-cert") == "/e/c.pem");
  CHECK(s->text("remote.tls-ca") == "/flag/ca.pem");
  CHECK(s->describe().find("remote.tls-key = /e/k.pem  # "
                           "AUTHSTORE_REMOTE_TLS_KEY")
        != std::string::npos);
}

TEST_CASE("api.port is unset (the HTTP API off) unless given; 0 is a port "
          "to pick",
          "[config][http]") {
  auto s = settings::load({});
  REQUIRE(s);
  CHECK_FALSE(s->is_set("api.port"));
  CHECK(s->is_set("http.port"));
  CHECK(s->integer("http.port") == 0);
  auto zero = settings::load({{"api.port", "0"}});
  REQUIRE(zero);
  CHECK(zero->is_set("api.port"));
  CHECK(zero->integer("api.port") == 0);
  {
    env_var e{"AUTHSTORE_API_PORT", "8447"};
    auto from_env = settings::load({});
    REQUIRE(from_env);
    CHECK(from_env->integer("api.port") == 8447);
  }
  {
    env_var e{"AUTHSTORE_API_PORT", ""};
    auto empty = settings::load({});
    REQUIRE(empty);
    CHECK_FALSE(empty->is_set("api.port"));
  }
  CHECK_FALSE(settings::load({{"api.port", "65536"}}));
  CHECK_FALSE(settings::load({{"api.port", "x"}}));
  // Integers with a default stay required.
  CHECK_FALSE(settings::load({{"http.port", ""}}));
  CHECK(settings_help().find("--api.port <n>") != std::string::npos);
  CHECK(settings_help().find("(default unset; env AUTHSTORE_API_PORT)")
        != std::string::npos);
  for (const char* key :
       {"api.bind", "api.max-body-bytes", "api.max-header-bytes",
        "api.max-connections", "api.max-in-flight-per-connection",
        "api.max-in-flight", "api.read-timeout-ms", "api.idle-timeout-ms",
        "api.tls-require-client-cert"}) {
    INFO(key);
    CHECK(s->is_set(key));
    CHECK(settings_help().find(std::string{"--"} + key + " <")
          != std::string::npos);
  }
}
