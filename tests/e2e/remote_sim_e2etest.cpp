// `authstore sim --connect`: the simulator drives a remote node through the
// client library, and verification still finds every acknowledged write.
#include "tests/e2e/remote_harness.hpp"

#include <array>
#include <cstdio>
#include <sys/wait.h>

#include "runtime/sim/private_redis.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_sim_e2etest {

using namespace authstore;
using namespace remote_test;

TEST_CASE("sim --connect drives authstore serve and loses nothing",
          "[sim][remote]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  std::string cmd
    = "AUTHSTORE_SECRET=" + secret + " "
      + std::string{std::getenv("AUTHSTORE_BINARY")}
      + " sim --connect 127.0.0.1:" + std::to_string(server->port())
      + " --sessions 20 --concurrency 5 --ops 1500 --seed 9"
        " --quiet 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    out.append(buf.data(), n);
  int status = ::pclose(p);
  INFO(out);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(out.find("remote node 127.0.0.1:") != std::string::npos);
  CHECK(out.find(" 0 lost, 0 unexpected") != std::string::npos);
  CHECK(out.find("0 read errors") != std::string::npos);
}

} // namespace remote_sim_e2etest
