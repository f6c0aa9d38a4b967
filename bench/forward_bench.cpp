// forward_bench.cpp -- what forwarding between nodes costs (issue #19): one
// write and one read through the session's owner, through a node that does
// not own it (one forward over the middleman), and through a node alone
// (cluster.enabled off), in one run; then throughput of 3 nodes vs 1.
//
// Method, latency: one remote client per target node, each with exactly one
// request in flight. One round = write via owner, write via non-owner,
// write via the single node, read via owner, read via non-owner, read via
// the single node, so the six series share the machine's moments (the
// owner keeps using its session, so its lease never lapses). Each sample is
// the client's full round trip: client -> node (-> owner) -> Redis and
// back. Throughput: T client threads, each on its own sessions, each op a
// write (set creds) or a read (get_creds) alternately, for --ops ops per
// thread: (a) every thread through the single node; (b) thread t through
// node t % 3 of the cluster (each session used, so owned, by one node: no
// forward); (c) each op through the next node of the three in turn (a
// load balancer without affinity: two thirds forwarded).
//
// Usage: forward_bench --owner PORT --other PORT --third PORT --single PORT
//        [--rounds N] [--threads T] [--ops N]  (secret: AUTHSTORE_SECRET)
// Started by bench/cluster/forward.sh, which starts the nodes.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "runtime/remote/client.hpp"

using namespace authstore;
using steady = std::chrono::steady_clock;

namespace {

std::map<std::string, std::string> parse(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 1; i + 1 < argc; i += 2)
    out[std::string{argv[i]}.substr(2)] = argv[i + 1];
  return out;
}

std::unique_ptr<remote_client> connect(uint16_t port) {
  remote_options o;
  if (const char* s = std::getenv("AUTHSTORE_SECRET"))
    o.secret = s;
  o.threads = 1;
  auto c = remote_client::connect("127.0.0.1", port, o);
  if (!c) {
    std::cerr << "forward_bench: connect " << port << ": " << c.error().render()
              << '\n';
    std::exit(1);
  }
  return std::move(*c);
}

double us_since(steady::time_point t0) {
  return std::chrono::duration<double, std::micro>(steady::now() - t0).count();
}

/// Nearest-rank percentile of `xs` (sorted here).
double pct(std::vector<double>& xs, double p) {
  std::sort(xs.begin(), xs.end());
  auto i = static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size()));
  return xs[std::min(i, xs.size() - 1)];
}

patch one_write(int i) {
  patch p;
  p.set_creds("n", std::to_string(i));
  return p;
}

void must(bool ok, const char* what) {
  if (!ok) {
    std::cerr << "forward_bench: " << what << " failed\n";
    std::exit(1);
  }
}

/// T threads x ops; `pick(thread, op)` chooses the client index.
double throughput(const std::vector<uint16_t>& ports, int threads, int ops,
                  int (*pick)(int, int, int), const std::string& tag) {
  std::vector<std::thread> ts;
  std::atomic<int> failed{0};
  auto t0 = steady::now();
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      std::vector<std::unique_ptr<remote_client>> cs;
      for (auto p : ports)
        cs.push_back(connect(p));
      auto sid = "fwd-tp-" + tag + "-" + std::to_string(t);
      for (int i = 0; i < ops; ++i) {
        auto& c
          = cs[static_cast<size_t>(pick(t, i, static_cast<int>(cs.size())))];
        bool ok = i % 2 == 0 ? static_cast<bool>(c->set(sid, one_write(i)))
                             : static_cast<bool>(c->get_creds(sid));
        if (!ok)
          ++failed;
      }
    });
  for (auto& t : ts)
    t.join();
  double secs = us_since(t0) / 1e6;
  if (failed > 0)
    std::cerr << "forward_bench: " << failed << " failed ops in " << tag
              << '\n';
  return threads * ops / secs;
}

} // namespace

int main(int argc, char** argv) {
  auto a = parse(argc, argv);
  auto port = [&](const char* k) {
    return static_cast<uint16_t>(std::stoi(a.at(k)));
  };
  int rounds = a.count("rounds") ? std::stoi(a["rounds"]) : 2000;
  int threads = a.count("threads") ? std::stoi(a["threads"]) : 6;
  int ops = a.count("ops") ? std::stoi(a["ops"]) : 3000;
  auto owner = connect(port("owner"));
  auto other = connect(port("other"));
  auto single = connect(port("single"));
  const std::string sid = "fwd-bench";
  const std::string sid1 = "fwd-bench-single";
  must(static_cast<bool>(owner->set(sid, one_write(0))), "warm-up write");
  must(static_cast<bool>(single->set(sid1, one_write(0))), "warm-up write");
  // A few rounds unmeasured: connections, hints, caches.
  std::map<std::string, std::vector<double>> s;
  for (int r = -50; r < rounds; ++r) {
    auto time = [&](const char* name, auto call) {
      auto t0 = steady::now();
      must(static_cast<bool>(call()), name);
      if (r >= 0)
        s[name].push_back(us_since(t0));
    };
    time("write_owner", [&] { return owner->set(sid, one_write(r)); });
    time("write_forwarded", [&] { return other->set(sid, one_write(r)); });
    time("write_single", [&] { return single->set(sid1, one_write(r)); });
    time("read_owner", [&] { return owner->get_creds(sid); });
    time("read_forwarded", [&] { return other->get_creds(sid); });
    time("read_single", [&] { return single->get_creds(sid1); });
  }
  std::printf("latency, %d rounds, one request in flight per client (us)\n",
              rounds);
  std::printf("%-16s %10s %10s %10s\n", "op", "p50", "p99", "mean");
  for (const char* name : {"write_owner", "write_forwarded", "write_single",
                           "read_owner", "read_forwarded", "read_single"}) {
    auto& xs = s[name];
    double mean = 0;
    for (auto x : xs)
      mean += x;
    mean /= static_cast<double>(xs.size());
    double p50 = pct(xs, 50), p99 = pct(xs, 99);
    std::printf("%-16s %10.0f %10.0f %10.0f\n", name, p50, p99, mean);
  }
  owner.reset();
  other.reset();
  single.reset();
  auto one = throughput(
    {port("single")}, threads, ops, [](int, int, int) { return 0; }, "one");
  auto affinity = throughput(
    {port("owner"), port("other"), port("third")}, threads, ops,
    [](int t, int, int n) { return t % n; }, "aff");
  auto spread = throughput(
    {port("owner"), port("other"), port("third")}, threads, ops,
    [](int t, int i, int n) { return (t + i) % n; }, "rr");
  std::printf("throughput, %d threads x %d ops (half set, half get_creds)\n",
              threads, ops);
  std::printf("1 node (cluster off)            %10.0f ops/s\n", one);
  std::printf("3 nodes, session affinity       %10.0f ops/s\n", affinity);
  std::printf("3 nodes, round robin (2/3 fwd)  %10.0f ops/s\n", spread);
  return 0;
}
