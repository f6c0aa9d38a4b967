// outbox_outage_redistest.cpp -- a 30-second cold-store outage under
// continuous writes, once with the worker failing every call and once with
// it hanging (no answer at all), against a real redis-server and the
// in-process fake cold worker. Issue #5's acceptance: writes keep
// succeeding without waiting on the cold store (invariant 5); after it
// returns the backlog drains to zero and every session's cold version and
// fields equal Redis (invariant 1). The same outage with the MongoDB wire
// server killed is tests/e2e/outbox_crash_e2etest.cpp.
//
// Each case runs 30 s of outage plus the drain: ~70 s for the file.
#include "tests/redis/outbox_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace outbox_outage_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;
using testing::fake_cold_control;
using testing::fake_mode;

namespace {

struct outage_result {
  int writes = 0;
  int failed = 0;
  int64_t slowest_ms = 0;
};

/// Writes to `sids` round-robin until `stop`, counting failures and the
/// slowest acknowledgement.
outage_result write_until(engine& e, const std::vector<std::string>& sids,
                          std::atomic<bool>& stop) {
  outage_result r;
  for (int i = 0; !stop; ++i) {
    patch p;
    p.set_creds("me", "{\"n\":" + std::to_string(i) + "}");
    p.set_key("pre-key", std::to_string(i % 50), std::to_string(i));
    if (i % 11 == 0)
      p.erase_key("pre-key", std::to_string((i + 25) % 50));
    auto start = std_clock::now();
    auto v = e.set(sids[static_cast<size_t>(i) % sids.size()], std::move(p));
    r.slowest_ms = std::max(r.slowest_ms, ms_since(start));
    ++r.writes;
    if (!v)
      ++r.failed;
    std::this_thread::sleep_for(5ms);
  }
  return r;
}

void outage(fake_mode mode) {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto ctl = std::make_shared<fake_cold_control>();
  auto e = start_fake_cold_engine(redis->url(), ctl);
  std::vector<std::string> sids;
  for (int i = 0; i < 20; ++i)
    sids.push_back(unique_sid("outage"));
  std::atomic<bool> stop{false};
  outage_result result;
  std::thread writer{[&] {
    result = write_until(*e, sids, stop);
  }};
  std::this_thread::sleep_for(2s); // healthy first
  ctl->fail_code = errc::cold_unavailable;
  ctl->mode = mode;
  std::this_thread::sleep_for(30s);
  auto backlog_during = backlog(raw);
  ctl->mode = fake_mode::succeed;
  std::this_thread::sleep_for(2s); // writes continue while it recovers
  stop = true;
  writer.join();
  INFO("writes " << result.writes << ", failed " << result.failed
                 << ", slowest " << result.slowest_ms << " ms");
  CHECK(result.failed == 0);
  // 5 ms between writes for 34 s: far more than a handful got through.
  CHECK(result.writes > 1000);
  // No write waited for the cold store (its call timeout is 500 ms here,
  // the session's own Redis bound 3 s).
  CHECK(result.slowest_ms < 400);
  CHECK(backlog_during == static_cast<long long>(sids.size()));
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 30s));
  for (const auto& sid : sids) {
    auto diff = cold_differs(raw, *ctl, sid);
    INFO(diff);
    CHECK(diff.empty());
  }
  CHECK(raw.text({"GET", "as:dirty:fields"}) == "0");
}

} // namespace

TEST_CASE("a 30 s cold-store outage with every call failing loses nothing "
          "and slows no write",
          "[outbox][invariant-1][invariant-5]") {
  outage(fake_mode::fail);
}

TEST_CASE("a 30 s cold-store outage with every call hanging loses nothing "
          "and slows no write",
          "[outbox][invariant-1][invariant-5]") {
  outage(fake_mode::hang);
}

} // namespace outbox_outage_redistest
