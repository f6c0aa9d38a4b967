// The operator CLI as a user meets it: real `authstore` processes against a
// private redis-server. Exit codes 0 ok, 1 failed, 2 usage, 3 not found;
// outputs as documented in `authstore <cmd> --help`.
#include "runtime/sim/private_redis.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>

#include <catch2/catch.hpp>

#include "tests/e2e/cli_run.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cli_e2etest {

using namespace authstore;
using namespace authstore::test;

TEST_CASE("the CLI writes, reads and deletes a session with documented exit "
          "codes",
          "[cli]") {
  auto server = private_redis::start();
  REQUIRE(server);
  auto redis = " --redis " + (*server)->url();
  auto missing = run("get cli-s1" + redis);
  CHECK(missing.code == 3);
  CHECK(missing.stdout.empty());
  CHECK(missing.out.find("not found\n") != std::string::npos);
  auto set = run("set cli-s1" + redis,
                 R"({"creds":{"me":{"id":"x"}},"keys":{"pre-key":{"1":)"
                 R"({"type":"Buffer","data":[1,2,3]}}}})");
  CHECK(set.code == 0);
  CHECK(set.stdout == "{\"version\":1}\n");
  auto get = run("get cli-s1" + redis);
  CHECK(get.code == 0);
  CHECK(get.stdout == "{\"creds\":{\"me\":{\"id\":\"x\"}},\"version\":1}\n");
  auto keys = run("get cli-s1 --keys pre-key 1 2" + redis);
  CHECK(keys.code == 0);
  CHECK(keys.out
        == "{\"pre-key\":{\"1\":{\"type\":\"Buffer\",\"data\":\"AQID\"}}}\n");
  auto conflict = run("set cli-s1 --expect-version 7" + redis, "{}");
  CHECK(conflict.code == 1);
  CHECK(conflict.out.rfind("authstore set: version_conflict", 0) == 0);
  auto del = run("del cli-s1" + redis);
  CHECK(del.code == 0);
  CHECK(run("del cli-s1" + redis).code == 3);
}

TEST_CASE("the CLI rejects bad input before touching Redis", "[cli]") {
  auto bad_id = run("get 'a{b}' --redis redis://127.0.0.1:1/0");
  CHECK(bad_id.code == 1);
  CHECK(bad_id.out.find("invalid_session_id") != std::string::npos);
  auto bad_patch = run("set s --redis redis://127.0.0.1:1/0", "[1,2");
  CHECK(bad_patch.code == 1);
  CHECK(bad_patch.out.find("invalid_argument") != std::string::npos);
  CHECK(run("get").code == 2);
  CHECK(run("get s --no-such-flag").code == 2);
  CHECK(run("no-such-command").code == 2);
  auto cfg = run("get s --redis.pool-size 0");
  CHECK(cfg.code == 2);
  CHECK(cfg.out.find("redis.pool-size") != std::string::npos);
}

TEST_CASE("an unreachable Redis is an error, never not-found",
          "[cli][invariant-4]") {
  auto r = run("get cli-s1 --redis redis://127.0.0.1:1/0");
  CHECK(r.code == 1);
  CHECK(r.out.rfind("authstore get: hot_unavailable", 0) == 0);
}

TEST_CASE("normalize writes the v7 form or a one-line error", "[cli][codec]") {
  auto ok = run("normalize", R"({"a":{"type":"Buffer","data":[104,105]}})");
  CHECK(ok.code == 0);
  CHECK(ok.stdout == "{\"a\":{\"type\":\"Buffer\",\"data\":\"aGk=\"}}\n");
  auto bad = run("normalize", R"({"type":"Buffer","data":[300]})");
  CHECK(bad.code == 1);
  CHECK(bad.out.rfind("authstore normalize: invalid_buffer", 0) == 0);
  CHECK(std::count(bad.out.begin(), bad.out.end(), '\n') == 1);
}

TEST_CASE("help describes every command and config --check redacts secrets",
          "[cli]") {
  auto help = run("--help");
  CHECK(help.code == 0);
  for (auto cmd : {"sim", "get", "set", "del", "normalize", "config"})
    CHECK(help.out.find(std::string{"  "} + cmd) != std::string::npos);
  auto sim_help = run("sim --help");
  CHECK(sim_help.code == 0);
  for (auto flag :
       {"--sessions", "--concurrency", "--duration", "--ops", "--read-ratio",
        "--seed", "--json", "--redis.url", "Examples:"})
    CHECK(sim_help.out.find(flag) != std::string::npos);
  auto check = run("config --check --redis redis://u:topsecret@h:1/0");
  CHECK(check.code == 0);
  CHECK(check.out.find("topsecret") == std::string::npos);
  CHECK(check.out.find("redis.url = redis://u:***@h:1/0  # --redis")
        != std::string::npos);
}

TEST_CASE("config --example prints a config file that config --check "
          "accepts, and reads no configuration",
          "[cli][config]") {
  auto example = run("config --example");
  CHECK(example.code == 0);
  CHECK(example.stdout.rfind("# authstore configuration", 0) == 0);
  CHECK(example.stdout.find("\n#redis.url = redis://127.0.0.1:6379/0\n")
        != std::string::npos);
  // The environment does not leak into the file (it is generated at build
  // time, where AUTHSTORE_* may be set).
  ::setenv("AUTHSTORE_REDIS_POOL_SIZE", "7", 1);
  auto with_env = run("config --example");
  ::unsetenv("AUTHSTORE_REDIS_POOL_SIZE");
  CHECK(with_env.stdout == example.stdout);
  // The example as the config file (run() feeds it on stdin).
  auto check = run("config --check --config /dev/stdin", example.stdout);
  CHECK(check.code == 0);
  CHECK(check.stdout.find("redis.pool-size = 2  # default")
        != std::string::npos);
  CHECK(run("config --example --redis redis://h:1/0").code == 2);
  CHECK(run("config --example --check").code == 2);
  CHECK(run("config").code == 2);
  auto help = run("config --help");
  CHECK(help.code == 0);
  CHECK(help.out.find("--example") != std::string::npos);
}

TEST_CASE("sim runs against its own redis-server and verifies every write",
          "[cli][sim]") {
  auto r = run("sim --sessions 20 --concurrency 5 --ops 2000 --seed 3 --quiet "
               "--json /tmp/authstore-sim-e2e.json");
  INFO(r.out);
  CHECK(r.code == 0);
  CHECK(r.out.find("0 lost, 0 unexpected") != std::string::npos);
  CHECK(r.out.find("seed 3") != std::string::npos);
  FILE* f = std::fopen("/tmp/authstore-sim-e2e.json", "r");
  REQUIRE(f != nullptr);
  std::string text;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
    text.append(buf.data(), n);
  std::fclose(f);
  for (auto field :
       {"\"operations\"", "\"set\"", "\"get_creds\"", "\"get_keys\"",
        "\"p999\"", "\"duration_s\"", "\"throughput_ops_s\"", "\"lost\": 0",
        "\"unexpected\": 0"})
    CHECK(text.find(field) != std::string::npos);
}

} // namespace cli_e2etest
