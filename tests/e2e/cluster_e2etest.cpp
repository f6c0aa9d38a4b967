// Several `authstore serve` nodes over one redis-server (issue #19): what a
// client reads through one node after a write acknowledged by another, with
// every node forwarding to the session's owner. Each node is a real
// process; the clients are remote clients in this test process, and every
// operation is recorded and judged by the linearizability checker
// (tests/e2e/linearizability.hpp). Faults: an owner SIGKILLed, an owner
// SIGSTOPped past its lease (its middleman port answers nothing), a rolling
// restart of all nodes under load.
//
// Sizes: the 100 000-operation run is the issue's figure; the fault runs
// are sized by time (a few lease terms of load around each fault) to keep
// each case well under a minute on this 2-core machine.
#include "tests/e2e/linearizability.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/remote/client.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"
#include "tests/http_get.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cluster_e2etest {

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
    INFO("round " << i << ": " << (v ? std::string{"ok"} : v.error().render()));
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

/// What a load run recorded: every acknowledged operation, the key ids of
/// acknowledged writes per session, and the failures by error token.
struct load_result {
  std::vector<lin::operation> history;
  std::map<std::string, std::vector<std::string>> acked_keys;
  std::map<std::string, int> errors;
  /// Acknowledged operations that completed after `mark_ns` (a fault's
  /// end, set by the driver; 0: none).
  std::atomic<int> after_mark{0};
  std::atomic<int64_t> mark_ns{0};

  int error_count() const {
    int n = 0;
    for (const auto& kvp : errors)
      n += kvp.second;
    return n;
  }
  std::string error_text() const {
    std::string t;
    for (const auto& kvp : errors)
      t += kvp.first + "=" + std::to_string(kvp.second) + " ";
    return t;
  }
};

/// Load on `sessions` shared sessions through every port of `ports` at
/// once: per session and port one writer (each write sets creds and adds
/// a key id of its own) and one reader. Runs until `ops` operations were
/// issued or `stop` is set. Failed operations are counted by token (a
/// client pauses 5 ms after one) and not recorded.
void run_load(load_result& out, const std::vector<uint16_t>& ports, int ops,
              int sessions, const std::atomic<bool>& stop) {
  std::mutex mu;
  std::atomic<int> left{ops};
  auto run = [&](uint16_t port, std::string name, bool writes, int s) {
    auto sid = "lin-" + std::to_string(s);
    auto c = remote_client::connect("127.0.0.1", port, client_options());
    if (!c) {
      std::lock_guard<std::mutex> guard{mu};
      ++out.errors["connect"];
      return;
    }
    std::vector<lin::operation> mine;
    std::vector<std::string> keys;
    std::map<std::string, int> errs;
    recorder rec{mine};
    for (int i = 0; !stop.load() && left.fetch_sub(1) > 0; ++i) {
      bool ok = false;
      if (writes) {
        patch p;
        auto id = name + "-" + std::to_string(i);
        p.set_creds("n", std::to_string(i));
        p.set_key("pre-key", id, R"({"type":"Buffer","data":"AQID"})");
        auto v = rec.write(name, sid, [&] { return (*c)->set(sid, p); });
        if (v)
          keys.push_back(id);
        else
          ++errs[std::string{to_string(v.error().code)}];
        ok = static_cast<bool>(v);
      } else {
        auto r = rec.read(name, sid, [&] { return (*c)->get_creds(sid); });
        if (!r)
          ++errs[std::string{to_string(r.error().code)}];
        ok = static_cast<bool>(r);
      }
      if (!ok)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      else if (out.mark_ns.load() != 0
               && mine.back().completed_ns > out.mark_ns.load())
        ++out.after_mark;
    }
    std::lock_guard<std::mutex> guard{mu};
    out.history.insert(out.history.end(), mine.begin(), mine.end());
    auto& acked = out.acked_keys[sid];
    acked.insert(acked.end(), keys.begin(), keys.end());
    for (auto& kvp : errs)
      out.errors[kvp.first] += kvp.second;
  };
  std::vector<std::thread> threads;
  for (int s = 0; s < sessions; ++s)
    for (size_t n = 0; n < ports.size(); ++n) {
      auto tag = std::to_string(n) + "-" + std::to_string(s);
      threads.emplace_back(run, ports[n], "w" + tag, true, s);
      threads.emplace_back(run, ports[n], "r" + tag, false, s);
    }
  for (auto& t : threads)
    t.join();
}

/// Every acknowledged write's key is stored: read back through `port`.
void check_no_acked_write_lost(const load_result& out, uint16_t port) {
  auto c = remote_client::connect("127.0.0.1", port, client_options());
  REQUIRE(c);
  for (const auto& [sid, ids] : out.acked_keys) {
    size_t found = 0;
    constexpr size_t chunk = 200;
    for (size_t i = 0; i < ids.size(); i += chunk) {
      std::vector<std::string> part(
        ids.begin() + static_cast<std::ptrdiff_t>(i),
        ids.begin()
          + static_cast<std::ptrdiff_t>(std::min(ids.size(), i + chunk)));
      auto r = (*c)->get_keys(sid, "pre-key", part);
      REQUIRE(r);
      found += r->values.size();
    }
    INFO("session " << sid);
    CHECK(found == ids.size());
  }
}

} // namespace

TEST_CASE("issue #19 - 100 000 concurrent operations, writes and reads "
          "through all three nodes, are linearizable (non-owners forward), "
          "and are not without ownership (cluster.test-fencing false)",
          "[issue-19][cluster]") {
  for (bool fencing : {true, false}) {
    // Without ownership a short run shows the violations already.
    const int ops = fencing ? 100000 : 20000;
    INFO("cluster.test-fencing " << fencing);
    auto redis = private_redis::start();
    REQUIRE(redis);
    std::vector<std::unique_ptr<serve_process>> nodes;
    std::vector<uint16_t> ports;
    for (const auto* id : {"n1", "n2", "n3"}) {
      nodes.push_back(
        serve_process::start((*redis)->url(), node_args(id, fencing)));
      REQUIRE(nodes.back());
      ports.push_back(nodes.back()->port());
    }
    load_result out;
    std::atomic<bool> stop{false};
    auto t0 = std::chrono::steady_clock::now();
    run_load(out, ports, ops, 2, stop);
    UNSCOPED_INFO(ops << " operations in " << remote_test::elapsed_ms(t0)
                      << " ms");
    INFO("errors: " << out.error_text());
    CHECK(out.error_count() == 0);
    CHECK(out.history.size() == static_cast<size_t>(ops));
    auto found = lin::check(out.history);
    UNSCOPED_INFO(lin::summary(found));
    if (fencing) {
      CHECK(found.empty());
      check_no_acked_write_lost(out, ports[1]);
    } else {
      CHECK_FALSE(found.empty()); // the checker sees the bug it guards
    }
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
  auto http2 = free_loopback_port();
  REQUIRE(http2);
  auto args2 = node_args("n2");
  args2.insert(args2.end(), {"--http.port", std::to_string(*http2)});
  auto n2 = serve_process::start((*redis)->url(), args2);
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
  // Node 2 cannot forward to node 1 (gone), so its writes are refused
  // (not_owner: nothing applied, retryable) until node 1's record
  // expires; then one takes the session over.
  uint64_t taken = 0;
  while (taken == 0) {
    patch q;
    q.set_creds("by", R"("n2")");
    auto v = (*c2)->set(sid, q);
    if (v) {
      taken = *v;
      break;
    }
    INFO(v.error().render());
    REQUIRE(v.error().code == errc::not_owner);
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
  // Counted as a takeover on node 2 (node 1's record expired, never
  // released), not as a first take.
  auto m = http_get(*http2, "/metrics");
  CHECK(sample(m.body,
               R"(authstore_cluster_lease_events_total{event="taken_over"})")
        == 1);
}

TEST_CASE("issue #19 - an owner paused past its lease answers neither from "
          "its cache nor writes once another node took the session over",
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
  // While node 1 owns it, node 2 forwards its write there (applied once,
  // on node 1's state) and its reads see it.
  auto forwarded = (*c2)->set(sid, p);
  REQUIRE(forwarded);
  CHECK(*forwarded == *v1 + 1);
  CHECK((*c2)->get_creds(sid)->version == *forwarded);
  CHECK((*c1)->get_creds(sid)->version == *forwarded);
  n1->signal(SIGSTOP);
  // A write sent to node 1 while it is paused waits in its socket.
  patch late;
  late.set_creds("late", R"("sent to the paused n1")");
  outcome<uint64_t> queued{errc::internal, "not answered"};
  std::thread sender{[&] {
    queued = (*c1)->set(sid, late);
  }};
  std::this_thread::sleep_for(
    std::chrono::milliseconds{lease_ms + 2 * margin_ms + 300});
  // Node 2 takes the session over with its next write (node 1's record
  // expired; node 2's hint of node 1 too).
  patch q;
  q.set_creds("by", R"("n2")");
  auto v2 = (*c2)->set(sid, q);
  INFO((v2 ? std::string{"ok"} : v2.error().render()));
  REQUIRE(v2);
  CHECK(*v2 == *forwarded + 1);
  n1->signal(SIGCONT);
  sender.join();
  // Node 1 woke with its cache and a lease that ran out on its own clock:
  // the queued write was refused by the fence in Redis (it carried node
  // 1's token) and then forwarded to node 2, so it landed once, on top of
  // node 2's write -- never on node 1's stale state.
  INFO((queued ? std::string{"ok"} : queued.error().render()));
  REQUIRE(queued);
  CHECK(*queued == *v2 + 1);
  auto m = http_get(*http1, "/metrics");
  CHECK(sample(m.body, "authstore_cluster_fenced_writes_total") >= 1);
  CHECK(sample(m.body, "authstore_cluster_forwards_total") >= 1);
  // Its reads are not answered from the stale cache either.
  auto r = (*c1)->get_creds(sid);
  REQUIRE(r);
  CHECK(r->version == *queued);
  CHECK(r->creds_json.find("n2") != std::string::npos);
  CHECK(r->creds_json.find("late") != std::string::npos);
  auto after = (*c2)->get_creds(sid);
  REQUIRE(after);
  CHECK(after->version == *queued);
}

TEST_CASE("issue #19 - one node's middleman port answers nothing (SIGSTOP): "
          "requests through the other nodes succeed after the takeover, and "
          "no acknowledged write is lost",
          "[issue-19][cluster]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  std::vector<std::unique_ptr<serve_process>> nodes;
  for (const auto* id : {"n1", "n2", "n3"}) {
    nodes.push_back(serve_process::start((*redis)->url(), node_args(id)));
    REQUIRE(nodes.back());
  }
  // Node 1 owns both sessions: it uses them first.
  {
    auto c
      = remote_client::connect("127.0.0.1", nodes[0]->port(), client_options());
    REQUIRE(c);
    for (int s = 0; s < 2; ++s) {
      patch p;
      p.set_creds("n", "0");
      REQUIRE((*c)->set("lin-" + std::to_string(s), p));
    }
  }
  load_result out;
  std::atomic<bool> stop{false};
  std::thread load{[&] {
    run_load(out, {nodes[1]->port(), nodes[2]->port()}, 1000000, 2, stop);
  }};
  // Load through nodes 2 and 3 (forwarded to node 1), then node 1 freezes.
  std::this_thread::sleep_for(std::chrono::milliseconds{1000});
  nodes[0]->signal(SIGSTOP);
  auto stopped = std::chrono::steady_clock::now();
  // After its lease the others take over; requests forwarded to it before
  // end at the forward bound (session.request-timeout-ms + 1 s: timeout,
  // outcome unknown), so the window that must see successes starts after
  // both.
  std::this_thread::sleep_for(
    std::chrono::milliseconds{lease_ms + 2 * margin_ms + 1000});
  out.mark_ns = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds{5000});
  stop = true;
  load.join();
  UNSCOPED_INFO("node 1 stopped for "
                << remote_test::elapsed_ms(stopped)
                << " ms; failures while it was: " << out.error_text());
  // Operations acknowledged after the takeover, through both other nodes.
  CHECK(out.after_mark.load() > 100);
  auto found = lin::check(out.history);
  UNSCOPED_INFO(lin::summary(found));
  CHECK(found.empty());
  check_no_acked_write_lost(out, nodes[2]->port());
  nodes[0]->signal(SIGCONT);
  // Resumed, node 1 owns nothing any more and reads the truth. It first
  // works off what queued while it was stopped (heartbeats, the load's
  // forwarded requests, expired timers), so a connection right after
  // SIGCONT may time out its handshake on a loaded machine (seen with three
  // tests at a time): connect within a bound.
  auto c1
    = remote_client::connect("127.0.0.1", nodes[0]->port(), client_options());
  CHECK(test::wait_until(
    [&] {
      if (!c1)
        c1 = remote_client::connect("127.0.0.1", nodes[0]->port(),
                                    client_options());
      return static_cast<bool>(c1);
    },
    std::chrono::seconds{10}));
  REQUIRE(c1);
  auto c3
    = remote_client::connect("127.0.0.1", nodes[2]->port(), client_options());
  REQUIRE(c3);
  for (int s = 0; s < 2; ++s) {
    auto sid = "lin-" + std::to_string(s);
    auto a = (*c1)->get_creds(sid);
    auto b = (*c3)->get_creds(sid);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->version == b->version);
  }
}

TEST_CASE("issue #19 - a rolling restart of all three nodes under load loses "
          "no acknowledged write and stays linearizable",
          "[issue-19][cluster]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  const std::vector<std::string> ids = {"n1", "n2", "n3"};
  std::vector<std::unique_ptr<serve_process>> nodes;
  std::vector<uint16_t> ports;
  for (const auto& id : ids) {
    auto port = free_loopback_port();
    REQUIRE(port);
    ports.push_back(*port);
    nodes.push_back(
      serve_process::start((*redis)->url(), node_args(id),
                           {"AUTHSTORE_SECRET=" + remote_test::secret}, *port));
    REQUIRE(nodes.back());
  }
  load_result out;
  std::atomic<bool> stop{false};
  std::thread load{[&] {
    run_load(out, ports, 1000000, 2, stop);
  }};
  std::this_thread::sleep_for(std::chrono::milliseconds{1000});
  for (size_t i = 0; i < nodes.size(); ++i) {
    // A clean stop (SIGTERM: drain, release), then the same node id and
    // port again, as an operator's rolling restart does.
    nodes[i]->signal(SIGTERM);
    REQUIRE(nodes[i]->wait(std::chrono::seconds{15}) == 0);
    nodes[i] = serve_process::start((*redis)->url(), node_args(ids[i]),
                                    {"AUTHSTORE_SECRET=" + remote_test::secret},
                                    ports[i]);
    REQUIRE(nodes[i]);
    std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  }
  out.mark_ns = now_ns();
  std::this_thread::sleep_for(std::chrono::milliseconds{1500});
  stop = true;
  load.join();
  UNSCOPED_INFO("failures during the restarts: " << out.error_text());
  CHECK(out.after_mark.load() > 100);
  auto found = lin::check(out.history);
  UNSCOPED_INFO(lin::summary(found) << " over " << out.history.size()
                                    << " acknowledged operations");
  CHECK(found.empty());
  check_no_acked_write_lost(out, ports[0]);
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

} // namespace cluster_e2etest
