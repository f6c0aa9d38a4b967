// Several `authstore serve` nodes over one redis-server (issue #19): what a
// client reads through one node after a write acknowledged by another.
// Each node is a real process; the clients are remote clients in this
// test process, and every operation is recorded and judged by the
// linearizability checker (tests/e2e/linearizability.hpp).
#include "tests/e2e/linearizability.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/remote/client.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"
#include "tests/http_get.hpp"

using namespace authstore;
using remote_test::client_options;
using remote_test::serve_process;
using test::http_get;
using test::sample;
namespace lin = authstore::linearizability;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// Lease term of these tests (short, so takeovers are quick) and margin.
constexpr int64_t lease_ms = 1000;
constexpr int64_t margin_ms = 100;

/// The settings every node of these tests runs with: cluster on, a node id
/// of its own; `fencing` false is the test-only switch that turns
/// ownership off (the house behaviour, caches trusted for
/// session.cache-max-age-ms).
std::vector<std::string> node_args(const std::string& id, bool fencing = true) {
  return {"--cluster.enabled",         "true",
          "--cluster.node-id",         id,
          "--cluster.lease-ms",        std::to_string(lease_ms),
          "--cluster.lease-margin-ms", std::to_string(margin_ms),
          "--cluster.heartbeat-ms",    "200",
          "--cluster.member-ttl-ms",   "1000",
          "--cluster.test-fencing",    fencing ? "true" : "false"};
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

namespace {

/// A history of `ops` operations on `sessions` sessions by clients on
/// several nodes at once: one writer per session through `writer_port`
/// (where the sessions are written, so that node owns them), one reader
/// per session through each of `readers`.
std::vector<lin::operation>
concurrent_history(uint16_t writer_port, const std::vector<uint16_t>& readers,
                   int ops, int sessions) {
  std::vector<lin::operation> history;
  std::mutex mu;
  std::atomic<int> left{ops};
  std::atomic<int> errors{0};
  auto run = [&](uint16_t port, std::string name, bool writes, int sid_index) {
    auto c = remote_client::connect("127.0.0.1", port, client_options());
    if (!c) {
      ++errors;
      return;
    }
    std::vector<lin::operation> mine;
    recorder rec{mine};
    auto sid = "lin-" + std::to_string(sid_index);
    for (int i = 0; left.fetch_sub(1) > 0; ++i) {
      if (writes) {
        patch p;
        p.set_creds("n", std::to_string(i));
        if (!rec.write(name, sid, [&] { return (*c)->set(sid, p); }))
          ++errors;
      } else if (!rec.read(name, sid, [&] { return (*c)->get_creds(sid); })) {
        ++errors;
      }
    }
    std::lock_guard<std::mutex> guard{mu};
    history.insert(history.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int s = 0; s < sessions; ++s) {
    threads.emplace_back(run, writer_port, "w" + std::to_string(s), true, s);
    for (size_t r = 0; r < readers.size(); ++r)
      threads.emplace_back(run, readers[r],
                           "r" + std::to_string(r) + "-" + std::to_string(s),
                           false, s);
  }
  for (auto& t : threads)
    t.join();
  CHECK(errors == 0);
  return history;
}

} // namespace

TEST_CASE("issue #19 - 100 000 concurrent operations through three nodes "
          "(writes through the owner, reads through all) are linearizable, "
          "and are not without ownership (cluster.test-fencing false)",
          "[issue-19][cluster]") {
  for (bool fencing : {true, false}) {
    // Without ownership a short run shows the violations already.
    const int ops = fencing ? 100000 : 20000;
    INFO("cluster.test-fencing " << fencing);
    auto redis = private_redis::start();
    REQUIRE(redis);
    std::vector<std::unique_ptr<serve_process>> nodes;
    for (const auto* id : {"n1", "n2", "n3"}) {
      nodes.push_back(
        serve_process::start((*redis)->url(), node_args(id, fencing)));
      REQUIRE(nodes.back());
    }
    auto history = concurrent_history(
      nodes[0]->port(), {nodes[0]->port(), nodes[1]->port(), nodes[2]->port()},
      ops, 2);
    CHECK(history.size() == static_cast<size_t>(ops));
    auto found = lin::check(history);
    UNSCOPED_INFO(lin::summary(found));
    if (fencing)
      CHECK(found.empty());
    else
      CHECK_FALSE(found.empty()); // the checker sees the bug it guards
  }
}

TEST_CASE("issue #19 - an owner SIGKILLed: another node takes the session "
          "over within the lease and the margin, and no acknowledged write is "
          "lost",
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
  const std::string sid = "cluster-killed";
  std::vector<std::string> acked;
  uint64_t last = 0;
  for (int i = 0; i < 50; ++i) {
    patch p;
    auto id = "k" + std::to_string(i);
    p.set_key("pre-key", id, R"({"type":"Buffer","data":"AQID"})");
    auto v = (*c1)->set(sid, p);
    REQUIRE(v);
    acked.push_back(id);
    last = *v;
  }
  n1->signal(SIGKILL);
  auto killed = std::chrono::steady_clock::now();
  REQUIRE(n1->wait(std::chrono::seconds{5}) >= 0);
  // Node 2's writes are refused (fenced, nothing applied) until node 1's
  // record expires, then one takes the session over.
  uint64_t taken = 0;
  while (taken == 0) {
    patch q;
    q.set_creds("by", R"("n2")");
    auto v = (*c2)->set(sid, q);
    if (v) {
      taken = *v;
      break;
    }
    REQUIRE(v.error().code == errc::fenced);
    REQUIRE(remote_test::elapsed_ms(killed) < 5000);
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  auto took_ms = remote_test::elapsed_ms(killed);
  UNSCOPED_INFO("takeover after " << took_ms << " ms");
  // The record lasts at most one lease after node 1's last renewal; the
  // rest is this test's polling and two processes on 2 busy cores.
  CHECK(took_ms <= lease_ms + margin_ms + 500);
  CHECK(taken == last + 1);
  auto keys = (*c2)->get_keys(sid, "pre-key", acked);
  REQUIRE(keys);
  CHECK(keys->values.size() == acked.size());
  CHECK(keys->version == taken);
}

TEST_CASE("issue #19 - an owner paused past its lease answers neither from "
          "its cache nor writes once another node took the session over",
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
  const std::string sid = "cluster-paused";
  patch p;
  p.set_creds("by", R"("n1")");
  auto v1 = (*c1)->set(sid, p);
  REQUIRE(v1);
  // Node 1 owns the session and caches it.
  REQUIRE((*c1)->get_creds(sid)->version == *v1);
  REQUIRE((*c1)->get_creds(sid)->version == *v1);
  // While node 1 owns it, node 2's write is refused (nothing applied).
  auto refused = (*c2)->set(sid, p);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::fenced);
  CHECK(refused.error().detail.find("n1") != std::string::npos);
  n1->signal(SIGSTOP);
  std::this_thread::sleep_for(
    std::chrono::milliseconds{lease_ms + 2 * margin_ms + 300});
  // Node 2 takes the session over with its next write.
  patch q;
  q.set_creds("by", R"("n2")");
  auto v2 = (*c2)->set(sid, q);
  REQUIRE(v2);
  CHECK(*v2 == *v1 + 1);
  n1->signal(SIGCONT);
  // Node 1 wakes with its cache and its lease: it must not answer from
  // the cache (the lease ran out on its own clock), nor write.
  auto r = (*c1)->get_creds(sid);
  REQUIRE(r);
  CHECK(r->version == *v2);
  CHECK(r->creds_json.find("n2") != std::string::npos);
  auto stale_write = (*c1)->set(sid, p);
  REQUIRE_FALSE(stale_write);
  CHECK(stale_write.error().code == errc::fenced);
  auto after = (*c2)->get_creds(sid);
  REQUIRE(after);
  CHECK(after->version == *v2);
}

TEST_CASE("issue #19 - nodes register in Redis, /healthz shows the members, "
          "and a stopped node leaves the membership",
          "[issue-19][cluster]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto http1 = free_loopback_port();
  REQUIRE(http1);
  auto args1 = node_args("n1");
  args1.insert(args1.end(), {"--http.port", std::to_string(*http1)});
  auto n1 = serve_process::start((*redis)->url(), args1);
  REQUIRE(n1);
  auto n2 = serve_process::start((*redis)->url(), node_args("n2"));
  REQUIRE(n2);
  auto members = [&] {
    auto r = http_get(*http1, "/healthz");
    REQUIRE(r.status == 200);
    auto body = nlohmann::json::parse(r.body);
    return body["components"]["cluster"];
  };
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  auto c = members();
  while (c["members"].size() != 2 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    c = members();
  }
  CHECK(c["state"] == "ok");
  CHECK(c["node_id"] == "n1");
  REQUIRE(c["members"].size() == 2);
  std::vector<std::string> ids;
  for (const auto& m : c["members"])
    ids.push_back(m["node_id"]);
  std::sort(ids.begin(), ids.end());
  CHECK(ids == std::vector<std::string>{"n1", "n2"});
  for (const auto& m : c["members"])
    if (m["node_id"] == "n2")
      CHECK(m["address"] == "127.0.0.1:" + std::to_string(n2->port()));
  // A killed node stops heartbeating and drops out after member-ttl-ms.
  n2->signal(SIGKILL);
  REQUIRE(n2->wait(std::chrono::seconds{5}) >= 0);
  until = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  c = members();
  while (c["members"].size() != 1 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
    c = members();
  }
  REQUIRE(c["members"].size() == 1);
  CHECK(c["members"][0]["node_id"] == "n1");
  auto m = http_get(*http1, "/metrics");
  CHECK(sample(m.body, "authstore_cluster_members") == 1);
}
