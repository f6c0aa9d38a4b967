// Tests of runtime/node/config.hpp: precedence, validation naming the setting,
// secrets redacted.
#include "runtime/node/config.hpp"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <type_traits>

#include <catch2/catch.hpp>

#include "runtime/node/node_settings.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace config_test {

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
  CHECK(s->redis_pool_size() == 2);
  CHECK(s->redis_url() == "redis://127.0.0.1:6379/0");
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
  CHECK(s->redis_pool_size() == 5);  // flag
  CHECK(s->session_max_live() == 8); // env over file
  CHECK(s->codec_max_depth() == 9);  // file over default
  auto d = s->describe();
  CHECK(d.find("redis.pool-size = 5  # --redis.pool-size")
        != std::string::npos);
  CHECK(d.find("session.max-live = 8  # AUTHSTORE_SESSION_MAX_LIVE")
        != std::string::npos);
}

TEST_CASE("the --redis alias sets redis.url", "[config]") {
  auto s = settings::load({{"redis", "redis://10.1.1.1:7000/1"}});
  REQUIRE(s);
  CHECK(s->redis_url() == "redis://10.1.1.1:7000/1");
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
  CHECK(problems[0].detail.find("needs a cold store (cold.uri)")
        != std::string::npos);
  auto with_cold = settings::load(
    {{"redis.hot-ttl-s", "60"}, {"mongodb.uri", "mongodb://127.0.0.1:27017"}});
  REQUIRE(with_cold);
  CHECK(with_cold->redis_hot_ttl_s() == std::chrono::seconds{60});
  CHECK(settings::load({{"redis.hot-ttl-s", "0"}}));
  // Either backend is a cold store.
  CHECK(settings::load(
    {{"redis.hot-ttl-s", "60"}, {"cold", "postgresql://u@127.0.0.1/db"}}));
}

TEST_CASE("cold.uri's scheme picks the backend; mongodb.uri is its MongoDB "
          "synonym",
          "[config][cold]") {
  struct row {
    const char* uri;
    cold_backend backend;
  };
  for (auto [uri, backend] :
       {row{"mongodb://h:27017/db", cold_backend::mongodb},
        row{"mongodb+srv://cluster.example/db", cold_backend::mongodb},
        row{"postgresql://u:p@h:5432/db?sslmode=require",
            cold_backend::postgresql},
        row{"postgres://h/db", cold_backend::postgresql}}) {
    INFO(uri);
    auto s = settings::load({{"cold", uri}});
    REQUIRE(s);
    CHECK(s->cold_store_backend() == backend);
    CHECK(s->cold_store_uri() == uri);
    CHECK(cold_backend_of(uri) == backend);
  }
  auto none = settings::load({});
  REQUIRE(none);
  CHECK(none->cold_store_backend() == cold_backend::none);
  CHECK(none->cold_store_uri().empty());
  // The older name still selects MongoDB, from a flag or the environment.
  auto old = settings::load({{"mongodb", "mongodb://h/db"}});
  REQUIRE(old);
  CHECK(old->cold_store_uri() == "mongodb://h/db");
  CHECK(old->cold_store_backend() == cold_backend::mongodb);
  env_var e{"AUTHSTORE_COLD_URI", "postgres://env-host/db"};
  auto from_env = settings::load({});
  REQUIRE(from_env);
  CHECK(from_env->cold_store_backend() == cold_backend::postgresql);
  CHECK(from_env->source(setting_id::cold_uri) == "AUTHSTORE_COLD_URI");
}

TEST_CASE("an unknown scheme, a non-MongoDB mongodb.uri and two different "
          "URIs are configuration errors naming the settings, never the "
          "password",
          "[config][cold]") {
  std::vector<failure> problems;
  REQUIRE_FALSE(
    settings::load({{"cold", "mysql://u:secret1@h/db"}}, &problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].code == errc::invalid_config);
  CHECK(problems[0].detail.find("cold.uri") != std::string::npos);
  CHECK(problems[0].detail.find("unknown scheme") != std::string::npos);
  CHECK(problems[0].detail.find("postgresql://") != std::string::npos);
  CHECK(problems[0].detail.find("secret1") == std::string::npos);
  problems.clear();
  REQUIRE_FALSE(
    settings::load({{"mongodb", "postgresql://u:secret2@h/db"}}, &problems));
  CHECK(problems[0].detail.find("mongodb.uri") != std::string::npos);
  CHECK(problems[0].detail.find("secret2") == std::string::npos);
  problems.clear();
  REQUIRE_FALSE(settings::load({{"cold", "postgresql://u:secret3@h/db"},
                                {"mongodb", "mongodb://u:secret4@m/db"}},
                               &problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].detail.find("cold.uri (from --cold)") != std::string::npos);
  CHECK(problems[0].detail.find("mongodb.uri (from --mongodb)")
        != std::string::npos);
  CHECK(problems[0].detail.find("secret3") == std::string::npos);
  CHECK(problems[0].detail.find("secret4") == std::string::npos);
  // The same URI under both names is one cold store.
  auto same = settings::load(
    {{"cold", "mongodb://m/db"}, {"mongodb.uri", "mongodb://m/db"}});
  REQUIRE(same);
  CHECK(same->cold_store_backend() == cold_backend::mongodb);
}

TEST_CASE("cold.migrate takes never, if-missing or always-up",
          "[config][cold]") {
  auto s = settings::load({});
  REQUIRE(s);
  CHECK(s->cold_migrate() == "if-missing");
  for (const char* ok : {"never", "if-missing", "always-up"})
    CHECK(settings::load({{"cold.migrate", ok}}));
  std::vector<failure> problems;
  REQUIRE_FALSE(settings::load({{"cold.migrate", "yes"}}, &problems));
  CHECK(problems[0].detail.find("cold.migrate") != std::string::npos);
  CHECK(s->cold_workers() == 4);
  CHECK_FALSE(settings::load({{"cold.workers", "0"}}));
  CHECK(s->postgresql_schema() == "authstore");
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
  CHECK(s->outbox_interval_ms() == std::chrono::milliseconds{1000});
  CHECK(s->outbox_reconcile());
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
  CHECK(redact_url("redis://secret@h") == "redis://:***@h"); // password form
}

TEST_CASE("config --check redacts the password of either cold-store URI, in "
          "the user info and in libpq's password parameter",
          "[config][cold]") {
  auto pg = settings::load(
    {{"cold", "postgresql://as:pgpw1@db:5432/auth?sslmode=require"}});
  REQUIRE(pg);
  auto d = pg->describe();
  CHECK(d.find("pgpw1") == std::string::npos);
  CHECK(d.find("cold.uri = postgresql://as:***@db:5432/auth?sslmode=require")
        != std::string::npos);
  auto mongo = settings::load({{"mongodb", "mongodb://m:mgpw2@h/db"}});
  REQUIRE(mongo);
  CHECK(mongo->describe().find("mgpw2") == std::string::npos);
  CHECK(redact_url("postgresql://as@db/auth?password=pgpw3&sslmode=require")
        == "postgresql://as@db/auth?password=***&sslmode=require");
  CHECK(redact_url("postgres://db/auth?sslmode=disable&password=x&a=b")
        == "postgres://db/auth?sslmode=disable&password=***&a=b");
  CHECK(redact_url("postgresql://as@db/auth") == "postgresql://as@db/auth");
  CHECK(redact_url("postgresql://as:p%40ss@h1,h2/db")
        == "postgresql://as:***@h1,h2/db");
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
  CHECK(s->remote_tls_cert().empty());
  CHECK(s->remote_tls_key().empty());
  CHECK(s->remote_tls_ca().empty());
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
  CHECK(all->remote_tls_ca() == "/ca.pem");
}

TEST_CASE("TLS files can come from the environment", "[config][tls]") {
  env_var cert{"AUTHSTORE_REMOTE_TLS_CERT", "/e/c.pem"};
  env_var key{"AUTHSTORE_REMOTE_TLS_KEY", "/e/k.pem"};
  env_var ca{"AUTHSTORE_REMOTE_TLS_CA", "/e/ca.pem"};
  auto s = settings::load({{"remote.tls-ca", "/flag/ca.pem"}});
  REQUIRE(s);
  CHECK(s->remote_tls_cert() == "/e/c.pem");
  CHECK(s->remote_tls_ca() == "/flag/ca.pem");
  CHECK(s->describe().find("remote.tls-key = /e/k.pem  # "
                           "AUTHSTORE_REMOTE_TLS_KEY")
        != std::string::npos);
}

TEST_CASE("every setting has a typed accessor returning its unit, and the "
          "table is indexed by setting_id",
          "[config]") {
  auto s = settings::load({{"session.request-timeout-ms", "2500"},
                           {"redis.hot-ttl-s", "7"},
                           {"mongodb.uri", "mongodb://127.0.0.1:27017"},
                           {"scheduler.moderate-sleep-us", "12"}});
  REQUIRE(s);
  static_assert(std::is_same_v<decltype(s->session_request_timeout_ms()),
                               std::chrono::milliseconds>);
  static_assert(
    std::is_same_v<decltype(s->redis_hot_ttl_s()), std::chrono::seconds>);
  static_assert(std::is_same_v<decltype(s->scheduler_moderate_sleep_us()),
                               std::chrono::microseconds>);
  static_assert(std::is_same_v<decltype(s->redis_pool_size()), int64_t>);
  static_assert(std::is_same_v<decltype(s->outbox_reconcile()), bool>);
  CHECK(s->session_request_timeout_ms() == std::chrono::milliseconds{2500});
  CHECK(s->redis_hot_ttl_s() == std::chrono::seconds{7});
  CHECK(s->scheduler_moderate_sleep_us() == std::chrono::microseconds{12});
  CHECK(s->source(setting_id::session_request_timeout_ms)
        == "--session.request-timeout-ms");
  CHECK(s->source(setting_id::redis_pool_size) == "default");
  const auto& specs = setting_specs();
  REQUIRE(specs.size()
          == static_cast<size_t>(setting_id::cluster_test_fencing) + 1);
  CHECK(std::string{specs[static_cast<size_t>(setting_id::redis_url)].key}
        == "redis.url");
  for (const auto& spec : specs) {
    INFO(spec.key);
    // The unit is in the name, and the kind follows it.
    std::string key = spec.key;
    auto ends = [&](const char* suffix) {
      std::string x = suffix;
      return key.size() > x.size()
             && key.compare(key.size() - x.size(), x.size(), x) == 0;
    };
    if (ends("-ms"))
      CHECK(spec.kind == setting_kind::millis);
    else if (ends("-s"))
      CHECK(spec.kind == setting_kind::seconds);
    else if (ends("-us"))
      CHECK(spec.kind == setting_kind::micros);
    CHECK(find_setting(key) == &spec);
  }
  CHECK(find_setting("redis.urll") == nullptr);
}

TEST_CASE("the TLS all-three-or-none rule is stated once: config and the "
          "file check give the same answer",
          "[config]") {
  auto why = tls_files_incomplete("c.pem", "", "");
  CHECK(why.find("remote.tls-key, remote.tls-ca must be set too")
        != std::string::npos);
  CHECK(tls_files_incomplete("", "", "").empty());
  CHECK(tls_files_incomplete("a", "b", "c").empty());
  std::vector<failure> problems;
  REQUIRE_FALSE(settings::load({{"remote.tls-cert", "c.pem"}}, &problems));
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].detail == why);
  tls_files files;
  files.cert = "c.pem";
  auto checked = check_tls_files(files);
  REQUIRE_FALSE(checked);
  CHECK(checked.error().detail == why);
}

namespace {

/// The example with every "#key = value" line of a known setting
/// uncommented.
std::string uncomment_settings(const std::string& example) {
  std::istringstream in{example};
  std::string out;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find(" =");
    if (line.size() > 1 && line[0] == '#' && eq != std::string::npos
        && find_setting(line.substr(1, eq - 1)))
      line.erase(0, 1);
    out += line + '\n';
  }
  return out;
}

} // namespace

TEST_CASE("the example config lists every setting once, commented out at "
          "its default, after its help and environment variable",
          "[config][example]") {
  auto example = settings_example();
  std::istringstream in{example};
  std::map<std::string, int> seen;
  std::string line;
  std::string previous;
  while (std::getline(in, line)) {
    INFO(line);
    CHECK(line.size() <= 79);
    CHECK((line.empty() || line.back() != ' '));
    CHECK((line.empty() || line[0] == '#'));
    auto eq = line.find(" =");
    if (eq != std::string::npos && line.rfind("# ", 0) != 0) {
      auto key = line.substr(1, eq - 1);
      const auto* spec = find_setting(key);
      REQUIRE(spec != nullptr);
      ++seen[key];
      std::string dflt = spec->default_value;
      CHECK(line == "#" + key + " =" + (dflt.empty() ? "" : " " + dflt));
      CHECK(previous.rfind("# ", 0) == 0);
      CHECK(previous.find("Env " + env_name(key) + ".") != std::string::npos);
    }
    previous = line;
  }
  CHECK(seen.size() == setting_specs().size());
  for (const auto& [key, n] : seen)
    CHECK(n == 1);
}

TEST_CASE("the example config loads to the defaults, as it is and with every "
          "setting uncommented",
          "[config][example]") {
  auto as_is = settings::load({{"config", write_file(settings_example())}});
  REQUIRE(as_is);
  auto defaults = settings::load({});
  REQUIRE(defaults);
  CHECK(as_is->describe() == defaults->describe());
  auto file = write_file(uncomment_settings(settings_example()));
  std::vector<failure> problems;
  auto all = settings::load({{"config", file}}, &problems);
  std::string why;
  for (const auto& p : problems)
    why += p.render() + '\n';
  INFO(why);
  REQUIRE(all);
  for (size_t i = 0; i < setting_specs().size(); ++i) {
    auto id = static_cast<setting_id>(i);
    INFO(setting_specs()[i].key);
    CHECK(all->source(id).rfind(file + ":", 0) == 0);
  }
  // Same values, other sources: strip the "  # source" of each line.
  auto values = [](const std::string& described) {
    std::istringstream in{described};
    std::string out;
    std::string line;
    while (std::getline(in, line))
      out += line.substr(0, line.rfind("  # ")) + '\n';
    return out;
  };
  CHECK(values(all->describe()) == values(defaults->describe()));
}

TEST_CASE("api.port is unset (the HTTP API off) unless given; 0 is a port "
          "to pick",
          "[config][http]") {
  auto s = settings::load({});
  REQUIRE(s);
  CHECK_FALSE(s->api_port().has_value());
  CHECK(s->http_port() == 0);
  auto zero = settings::load({{"api.port", "0"}});
  REQUIRE(zero);
  CHECK(zero->api_port() == std::optional<int64_t>{0});
  {
    env_var e{"AUTHSTORE_API_PORT", "8447"};
    auto from_env = settings::load({});
    REQUIRE(from_env);
    CHECK(from_env->api_port() == std::optional<int64_t>{8447});
  }
  {
    env_var e{"AUTHSTORE_API_PORT", ""};
    auto empty = settings::load({});
    REQUIRE(empty);
    CHECK_FALSE(empty->api_port().has_value());
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
    REQUIRE(find_setting(key) != nullptr);
    CHECK(*find_setting(key)->default_value != '\0');
    CHECK(settings_help().find(std::string{"--"} + key + " <")
          != std::string::npos);
  }
}

} // namespace config_test
