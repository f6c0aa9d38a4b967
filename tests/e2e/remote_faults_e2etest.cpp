// `authstore serve` under faults, with real processes on loopback: killed
// (SIGKILL) and restarted mid-write, stopped (SIGTERM) under load, frozen
// (SIGSTOP). Clients must get errors within a bound that does not depend on
// their request timeout, reconnect by themselves, and never lose an
// acknowledged write; an error must say whether the write may have been
// applied.
#include "runtime/remote/client.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_faults_e2etest {

using namespace authstore;
using remote_test::client_options;
using remote_test::elapsed_ms;
using remote_test::serve_process;

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using steady = std::chrono::steady_clock;

const std::string key_value = R"({"type":"Buffer","data":"AQID"})";

/// What one writer saw.
struct write_log {
  std::mutex mx;
  /// Key ids whose write was acknowledged.
  std::vector<std::string> acked;
  /// Failed calls: code and how long the call took (ms).
  std::vector<std::pair<errc, int64_t>> failures;
  /// The rendering of each failure, for the test log.
  std::vector<std::string> details;
  std::atomic<int> n_acked{0};
  std::atomic<int> n_failed{0};
};

/// Writes key pre-key/<prefix><i> to `sid` for i = 0, 1, ... until `stop`.
void write_loop(remote_client& c, const std::string& sid,
                const std::string& prefix, write_log& log,
                const std::atomic<bool>& stop) {
  for (int i = 0; !stop; ++i) {
    auto id = prefix + std::to_string(i);
    patch p;
    p.set_key("pre-key", id, key_value);
    auto start = steady::now();
    auto v = c.set(sid, std::move(p));
    std::lock_guard<std::mutex> guard{log.mx};
    if (v) {
      log.acked.push_back(id);
      ++log.n_acked;
    } else {
      log.failures.emplace_back(v.error().code, elapsed_ms(start));
      log.details.push_back(v.error().render());
      ++log.n_failed;
      // Failing calls return at once while the server is away; do not spin.
      std::this_thread::sleep_for(milliseconds{10});
    }
  }
}

/// Waits until `pred` holds or `bound` passed; returns pred().
template <class Pred>
bool wait_until(Pred pred, milliseconds bound) {
  auto deadline = steady::now() + bound;
  while (!pred() && steady::now() < deadline)
    std::this_thread::sleep_for(milliseconds{10});
  return pred();
}

/// Reads back `ids` of `sid` and returns how many are missing.
size_t count_missing(remote_client& c, const std::string& sid,
                     const std::vector<std::string>& ids) {
  auto k = c.get_keys(sid, "pre-key", ids);
  REQUIRE(k);
  size_t missing = 0;
  for (const auto& id : ids)
    if (k->values.count(id) == 0)
      ++missing;
  return missing;
}

} // namespace

TEST_CASE("a killed server fails calls at once; clients reconnect when it is "
          "back and no acknowledged write is lost",
          "[remote][invariant-1]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto port = server->port();
  auto opts = client_options();
  // Far above the bound asserted below: failing fast must come from the
  // lost connection, not from a request timing out.
  opts.request_timeout = seconds{10};
  auto c = remote_client::connect("127.0.0.1", port, opts);
  REQUIRE(c);
  write_log log;
  std::atomic<bool> stop{false};
  std::thread writer{[&] {
    write_loop(**c, "kill-s1", "k", log, stop);
  }};
  REQUIRE(wait_until([&] { return log.n_acked >= 50; }, seconds{10}));
  server->signal(SIGKILL);
  CHECK(server->wait(seconds{2}) == 128 + SIGKILL);
  CHECK(wait_until([&] { return log.n_failed >= 3; }, seconds{5}));
  CHECK_FALSE((*c)->connected());
  auto back = serve_process::start(
    (*redis)->url(), {}, {"AUTHSTORE_SECRET=" + remote_test::secret}, port);
  REQUIRE(back);
  int before = log.n_acked;
  CHECK(wait_until([&] { return log.n_acked >= before + 50; }, seconds{15}));
  stop = true;
  writer.join();
  CHECK((*c)->connected());
  for (auto [code, ms] : log.failures) {
    INFO(to_string(code) << " after " << ms << " ms");
    CHECK((code == errc::timeout || code == errc::unreachable));
    CHECK(ms < 2000);
  }
  CHECK(count_missing(**c, "kill-s1", log.acked) == 0);
}

TEST_CASE("SIGTERM under load: every request is acknowledged or refused as "
          "not applied, and nothing acknowledged is missing",
          "[remote][invariant-1]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  constexpr int clients = 2;
  constexpr int threads_per_client = 2;
  std::vector<std::unique_ptr<remote_client>> cs;
  for (int i = 0; i < clients; ++i) {
    auto c
      = remote_client::connect("127.0.0.1", server->port(), client_options());
    REQUIRE(c);
    cs.push_back(std::move(*c));
  }
  std::vector<write_log> logs(clients * threads_per_client);
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int i = 0; i < clients * threads_per_client; ++i)
    writers.emplace_back([&, i] {
      write_loop(*cs[i / threads_per_client], "term-s" + std::to_string(i), "t",
                 logs[i], stop);
    });
  auto total_acked = [&] {
    int n = 0;
    for (auto& l : logs)
      n += l.n_acked;
    return n;
  };
  REQUIRE(wait_until([&] { return total_acked() >= 200; }, seconds{10}));
  server->signal(SIGTERM);
  // Draining is bounded by the forward timeout (4 s by default).
  CHECK(server->wait(seconds{10}) == 0);
  std::this_thread::sleep_for(milliseconds{200});
  stop = true;
  for (auto& w : writers)
    w.join();
  int refused = 0;
  for (auto& l : logs)
    for (size_t i = 0; i < l.failures.size(); ++i) {
      auto [code, ms] = l.failures[i];
      INFO(l.details[i] << " after " << ms << " ms");
      // Drained: refused as not applied, never "unknown".
      CHECK((code == errc::shutting_down || code == errc::unreachable));
      ++refused;
    }
  CHECK(refused > 0);
  CHECK(server->log().find("0 killed while busy") != std::string::npos);
  auto again = serve_process::start((*redis)->url());
  REQUIRE(again);
  auto reader
    = remote_client::connect("127.0.0.1", again->port(), client_options());
  REQUIRE(reader);
  for (size_t i = 0; i < logs.size(); ++i)
    CHECK(count_missing(**reader, "term-s" + std::to_string(i), logs[i].acked)
          == 0);
}

TEST_CASE("a frozen server is detected within the connection timeout, and "
          "the client reconnects once it runs again",
          "[remote]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto opts = client_options();
  opts.heartbeat = milliseconds{100};
  opts.connection_timeout = milliseconds{500};
  opts.handshake_timeout = milliseconds{1000};
  opts.request_timeout = seconds{10};
  auto c = remote_client::connect("127.0.0.1", server->port(), opts);
  REQUIRE(c);
  patch p;
  p.set_creds("me", R"({"id":"frozen"})");
  REQUIRE((*c)->set("stop-s1", p));
  server->signal(SIGSTOP);
  auto start = steady::now();
  auto during = (*c)->set("stop-s1", p);
  auto took = elapsed_ms(start);
  REQUIRE_FALSE(during);
  // Sent, then the connection was dropped: the outcome is unknown.
  CHECK(during.error().code == errc::timeout);
  CHECK(remote_client::may_have_been_applied(during.error()));
  CHECK(took < 3000);
  // Reconnecting to a frozen server fails within a bound too (the
  // middleman reports connection_timeout, or the handshake times out).
  start = steady::now();
  auto again = (*c)->get_creds("stop-s1");
  REQUIRE_FALSE(again);
  INFO(again.error().render());
  CHECK(again.error().code == errc::unreachable);
  CHECK(elapsed_ms(start) < 3000);
  server->signal(SIGCONT);
  outcome<creds_reply> read{errc::internal, "not tried"};
  CHECK(wait_until(
    [&] {
      read = (*c)->get_creds("stop-s1");
      return static_cast<bool>(read);
    },
    seconds{10}));
  REQUIRE(read);
  CHECK(read->creds_json == R"({"me":{"id":"frozen"}})");
}

} // namespace remote_faults_e2etest
