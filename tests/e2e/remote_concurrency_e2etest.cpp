// Two client processes and one `authstore serve` process writing and
// reading the same sessions at once: no update is lost (optimistic
// read-modify-write with expected versions), and each client reads its own
// writes. The clients are forked from this test before it starts any actor
// system, so the fork happens in a single-threaded process.
#include "runtime/remote/client.hpp"

#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_concurrency_e2etest {

using namespace authstore;
using remote_test::client_options;
using remote_test::serve_process;

namespace {

/// Counter increments per client and session.
constexpr int rounds = 100;

const std::vector<std::string> sessions = {"conc-a", "conc-b"};

/// Everything a client process checks; returns "" or what went wrong.
std::string run_client(uint16_t port, const std::string& name) {
  auto c = remote_client::connect("127.0.0.1", port, client_options());
  if (!c)
    return "connect: " + c.error().render();
  for (int i = 0; i < rounds; ++i) {
    for (const auto& sid : sessions) {
      auto key_id = name + "-" + std::to_string(i);
      uint64_t written = 0;
      int64_t counter = 0;
      // Read-modify-write, retried on version_conflict: the other client
      // may have written in between, and then nothing was applied.
      for (int attempt = 0; written == 0; ++attempt) {
        if (attempt == 1000)
          return "no progress on " + sid;
        auto r = (*c)->get_creds(sid);
        if (!r)
          return "get_creds: " + r.error().render();
        auto doc = nlohmann::json::parse(r->creds_json);
        counter = doc.value("counter", int64_t{0});
        patch p;
        p.set_creds("counter", std::to_string(counter + 1));
        p.set_key("pre-key", key_id, R"({"type":"Buffer","data":"AQID"})");
        p.expected_version = r->version;
        auto v = (*c)->set(sid, std::move(p));
        if (v)
          written = *v;
        else if (v.error().code != errc::version_conflict)
          return "set: " + v.error().render();
      }
      // Read your writes: at least the version and counter just written,
      // and the key just written.
      auto r = (*c)->get_creds(sid);
      if (!r)
        return "read back: " + r.error().render();
      auto seen
        = nlohmann::json::parse(r->creds_json).value("counter", int64_t{0});
      if (r->version < written || seen < counter + 1)
        return "stale read of " + sid + ": version "
               + std::to_string(r->version) + " < " + std::to_string(written);
      auto k = (*c)->get_keys(sid, "pre-key", {key_id});
      if (!k || k->values.count(key_id) == 0)
        return "own key " + key_id + " not read back";
    }
  }
  return "";
}

/// Forks a client process; its exit code says whether all its checks held.
pid_t fork_client(uint16_t port, const std::string& name) {
  pid_t pid = ::fork();
  if (pid == 0) {
    auto problem = run_client(port, name);
    if (!problem.empty())
      std::fprintf(stderr, "client %s: %s\n", name.c_str(), problem.c_str());
    ::_exit(problem.empty() ? 0 : 1);
  }
  return pid;
}

/// Waits up to `bound` for `pid`; kills it when it takes longer.
int wait_child(pid_t pid, std::chrono::seconds bound) {
  auto deadline = std::chrono::steady_clock::now() + bound;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

TEST_CASE("two client processes share sessions through one server without "
          "losing an update, each reading its own writes",
          "[remote][invariant-2]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto a = fork_client(server->port(), "a");
  auto b = fork_client(server->port(), "b");
  REQUIRE(a > 0);
  REQUIRE(b > 0);
  CHECK(wait_child(a, std::chrono::seconds{40}) == 0);
  CHECK(wait_child(b, std::chrono::seconds{40}) == 0);
  auto c
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(c);
  std::vector<std::string> ids;
  for (const auto* name : {"a", "b"})
    for (int i = 0; i < rounds; ++i)
      ids.push_back(std::string{name} + "-" + std::to_string(i));
  for (const auto& sid : sessions) {
    auto r = (*c)->get_creds(sid);
    REQUIRE(r);
    // Every increment of both clients is there, and each successful write
    // made exactly one version.
    CHECK(nlohmann::json::parse(r->creds_json).value("counter", 0)
          == 2 * rounds);
    CHECK(r->version == static_cast<uint64_t>(2 * rounds));
    auto k = (*c)->get_keys(sid, "pre-key", ids);
    REQUIRE(k);
    CHECK(k->values.size() == ids.size());
  }
}

} // namespace remote_concurrency_e2etest
