// Several `authstore serve` nodes over one redis-server (issue #19): what a
// client reads through one node after a write acknowledged by another.
// Each node is a real process; the clients are remote clients in this
// test process, and every operation is recorded and judged by the
// linearizability checker (tests/e2e/linearizability.hpp).
#include "tests/e2e/linearizability.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "runtime/remote/client.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"

using namespace authstore;
using remote_test::client_options;
using remote_test::serve_process;
namespace lin = authstore::linearizability;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// The settings every node of these tests runs with: a node id of its own.
std::vector<std::string> node_args(const std::string& id) {
  (void)id;
  return {};
}

/// Records one operation of `client` on `sid` into `history`.
struct recorder {
  std::vector<lin::operation>& history;

  template <class Call>
  auto read(const std::string& client, const std::string& sid, Call call) {
    auto start = now_ns();
    auto r = call();
    if (r)
      history.push_back(
        {client, sid, lin::op_type::read, start, now_ns(), r->version});
    return r;
  }

  template <class Call>
  auto write(const std::string& client, const std::string& sid, Call call) {
    auto start = now_ns();
    auto v = call();
    if (v)
      history.push_back(
        {client, sid, lin::op_type::write, start, now_ns(), *v});
    return v;
  }
};

} // namespace

TEST_CASE("issue #19 - a write acknowledged by one node is read through "
          "another, never an older state",
          "[issue-19][cluster]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto n1 = serve_process::start((*redis)->url(), node_args("n1"));
  REQUIRE(n1);
  auto n2 = serve_process::start((*redis)->url(), node_args("n2"));
  REQUIRE(n2);
  auto c1 = remote_client::connect("127.0.0.1", n1->port(), client_options());
  REQUIRE(c1);
  auto c2 = remote_client::connect("127.0.0.1", n2->port(), client_options());
  REQUIRE(c2);
  std::vector<lin::operation> history;
  recorder rec{history};
  const std::string sid = "cluster-stale";
  int stale = 0;
  constexpr int rounds = 50;
  for (int i = 0; i < rounds; ++i) {
    // Node 2 reads first, so that it holds the session (and whatever it
    // may cache) when node 1 writes.
    auto before = rec.read("c2", sid, [&] { return (*c2)->get_creds(sid); });
    REQUIRE(before);
    patch p;
    p.set_creds("round", std::to_string(i));
    auto v = rec.write("c1", sid, [&] { return (*c1)->set(sid, p); });
    REQUIRE(v);
    auto after = rec.read("c2", sid, [&] { return (*c2)->get_creds(sid); });
    REQUIRE(after);
    if (after->version < *v)
      ++stale;
  }
  auto found = lin::check(history);
  INFO(lin::summary(found));
  CHECK(stale == 0);
  CHECK(found.empty());
}
