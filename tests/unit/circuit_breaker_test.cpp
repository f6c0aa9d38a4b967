// circuit_breaker_test.cpp -- every edge, every boundary and a randomized
// comparison against a naive reference model of the cold-store breaker.
//
// Time is a steady_clock::time_point built by hand (no sleeps, no wall clock);
// jitter comes from a lambda the test controls. The reference model at the end
// keeps every outcome in a vector and recomputes everything from it on each
// step, so its correctness can be read off; it lives here, not in its own
// file, because nothing but this test may use it.
#include "actors/circuit_breaker.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace circuit_breaker_test {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

using clock_type = circuit_breaker::clock;
using time_point = clock_type::time_point;
using duration = clock_type::duration;
using edge = std::pair<breaker_state, breaker_state>;

// An origin on a whole hour, so it is aligned to every bucket width used here.
const time_point t0 = time_point{} + 1000h;

constexpr breaker_state all_states[] = {
  breaker_state::closed,      breaker_state::half_open, breaker_state::open,
  breaker_state::forced_open, breaker_state::disabled,
};

// A breaker with a scripted jitter draw `u` and a log of its transitions.
struct harness {
  explicit harness(circuit_breaker_config c = {})
      : cfg(c),
        uut(
          c,
          [this] {
            ++draws;
            return u;
          },
          [this](breaker_state from, breaker_state to, trip_reason why) {
            transitions.emplace_back(from, to);
            reasons.push_back(why);
          }) {}

  // One call admitted at `at` and reported at once; false if rejected.
  bool call(time_point at, call_result r, duration d = 1ms) {
    auto permit = uut.allow(at);
    if (permit)
      uut.record(permit, r, d, at);
    return static_cast<bool>(permit);
  }

  // `n` failed calls at `at`.
  void fail(time_point at, int n = 1) {
    for (int i = 0; i < n; ++i)
      call(at, call_result::failure);
  }

  circuit_breaker_config cfg;
  double u = 0.0;
  int draws = 0;
  std::vector<edge> transitions;
  std::vector<trip_reason> reasons; // the listener's third argument, per edge
  circuit_breaker uut;
};

// A config where only the failure rate can trip.
circuit_breaker_config rate_only() {
  circuit_breaker_config c;
  c.consecutive_failures = 1'000'000;
  c.slow_call_rate_percent = 100;
  return c;
}

} // namespace

// -- tokens, config --------------------------------------------------------

TEST_CASE("breaker states have distinct tokens and the gauge numbering",
          "[circuit_breaker]") {
  std::set<std::string_view> tokens;
  for (auto s : all_states)
    tokens.insert(to_string(s));
  CHECK(tokens.size() == 5);
  CHECK(to_string(breaker_state::closed) == "closed");
  CHECK(to_string(breaker_state::half_open) == "half_open");
  CHECK(to_string(breaker_state::open) == "open");
  CHECK(to_string(breaker_state::forced_open) == "forced_open");
  CHECK(to_string(breaker_state::disabled) == "disabled");
  CHECK(static_cast<int>(breaker_state::closed) == 0);
  CHECK(static_cast<int>(breaker_state::half_open) == 1);
  CHECK(static_cast<int>(breaker_state::open) == 2);
  CHECK(static_cast<int>(breaker_state::forced_open) == 3);
  CHECK(static_cast<int>(breaker_state::disabled) == 4);
  CHECK(to_string(call_result::success) == "success");
  CHECK(to_string(call_result::failure) == "failure");
  CHECK(to_string(call_result::timeout) == "timeout");
  CHECK(to_string(trip_reason::none) == "none");
  CHECK(to_string(trip_reason::consecutive_failures) == "consecutive_failures");
  CHECK(to_string(trip_reason::failure_rate) == "failure_rate");
  CHECK(to_string(trip_reason::slow_call_rate) == "slow_call_rate");
  CHECK(to_string(trip_reason::probe_failed) == "probe_failed");
}

TEST_CASE("the default breaker config is issue #4's and valid",
          "[circuit_breaker]") {
  circuit_breaker_config c;
  CHECK(c.window == 10s);
  CHECK(c.bucket == 1s);
  CHECK(c.min_calls == 10);
  CHECK(c.failure_rate_percent == 50);
  CHECK(c.consecutive_failures == 5);
  CHECK(c.slow_call == 1s);
  CHECK(c.slow_call_rate_percent == 80);
  CHECK(c.open_base == 5s);
  CHECK(c.open_max == 60s);
  CHECK(c.jitter_percent == 20);
  CHECK(c.half_open_probes == 3);
  CHECK(static_cast<bool>(validate(c)));
}

TEST_CASE("validate names the out-of-range breaker field",
          "[circuit_breaker]") {
  using mutator = void (*)(circuit_breaker_config&);
  std::vector<std::pair<std::string, mutator>> cases = {
    {"bucket",
     [](auto& c) {
       c.bucket = 0ms;
     }},
    {"window",
     [](auto& c) {
       c.window = 10500ms;
     }},
    {"window",
     [](auto& c) {
       c.window = 500ms;
     }},
    {"window",
     [](auto& c) {
       c.window = 3601s;
     }},
    {"min_calls",
     [](auto& c) {
       c.min_calls = 0;
     }},
    {"failure_rate_percent",
     [](auto& c) {
       c.failure_rate_percent = 0;
     }},
    {"failure_rate_percent",
     [](auto& c) {
       c.failure_rate_percent = 101;
     }},
    {"consecutive_failures",
     [](auto& c) {
       c.consecutive_failures = 0;
     }},
    {"slow_call",
     [](auto& c) {
       c.slow_call = 0ms;
     }},
    {"slow_call_rate_percent",
     [](auto& c) {
       c.slow_call_rate_percent = 0;
     }},
    {"slow_call_rate_percent",
     [](auto& c) {
       c.slow_call_rate_percent = 101;
     }},
    {"open_base",
     [](auto& c) {
       c.open_base = 0ms;
     }},
    {"open_max",
     [](auto& c) {
       c.open_max = 4s;
     }},
    {"open_max",
     [](auto& c) {
       c.open_max = 25h;
     }},
    {"jitter_percent",
     [](auto& c) {
       c.jitter_percent = 51;
     }},
    {"half_open_probes",
     [](auto& c) {
       c.half_open_probes = 0;
     }},
    {"half_open_probes",
     [](auto& c) {
       c.half_open_probes = 1001;
     }},
  };
  for (auto& [field, mutate] : cases) {
    circuit_breaker_config c;
    mutate(c);
    auto checked = validate(c);
    INFO(field);
    REQUIRE_FALSE(static_cast<bool>(checked));
    CHECK(checked.error().code == errc::invalid_config);
    CHECK(checked.error().detail.find(field) != std::string::npos);
  }
  circuit_breaker_config edge_ok;
  edge_ok.window = 3600s;
  edge_ok.failure_rate_percent = 100;
  edge_ok.slow_call_rate_percent = 1;
  edge_ok.jitter_percent = 50;
  edge_ok.open_max = edge_ok.open_base;
  edge_ok.half_open_probes = 1000;
  CHECK(static_cast<bool>(validate(edge_ok)));
}

TEST_CASE("an invalid config is clamped into a working breaker",
          "[circuit_breaker]") {
  circuit_breaker_config c;
  c.bucket = 0ms;
  c.window = 0ms;
  c.min_calls = 0;
  c.consecutive_failures = 0;
  c.half_open_probes = 0;
  c.open_base = 0ms;
  c.open_max = 0ms;
  harness h{c};
  // consecutive_failures clamps to 1: the first failure trips.
  CHECK(h.call(t0, call_result::success));
  CHECK(h.uut.state() == breaker_state::closed);
  h.fail(t0);
  CHECK(h.uut.state() == breaker_state::open);
  // open_base clamps to 1 ms; half_open_probes clamps to 1.
  auto probe = h.uut.allow(t0 + 1ms);
  CHECK(static_cast<bool>(probe));
  CHECK_FALSE(h.uut.allow(t0 + 1ms));
  h.uut.record(probe, call_result::success, 0ms, t0 + 1ms);
  CHECK(h.uut.state() == breaker_state::closed);
}

// -- closed -> open --------------------------------------------------------

TEST_CASE("the failure rate trips at exactly the threshold, for every percent",
          "[circuit_breaker][edge]") {
  // Ten calls (= min_calls), f of them failures, last: the rate is f/10.
  for (uint32_t percent = 1; percent <= 100; ++percent) {
    for (int f = 0; f <= 10; ++f) {
      auto c = rate_only();
      c.failure_rate_percent = percent;
      harness h{c};
      for (int i = 0; i < 10 - f; ++i)
        h.call(t0, call_result::success);
      h.fail(t0, f);
      // f/10 >= percent/100, written without the implementation's formula.
      bool expect_open = f * 10 >= static_cast<int>(percent);
      INFO("percent " << percent << " failures " << f);
      REQUIRE((h.uut.state() == breaker_state::open) == expect_open);
      if (expect_open)
        CHECK(h.uut.status(t0).last_trip == trip_reason::failure_rate);
    }
  }
}

TEST_CASE("the failure rate needs min_calls calls in the window",
          "[circuit_breaker][edge]") {
  harness h{rate_only()};
  h.fail(t0, 9);
  CHECK(h.uut.state() == breaker_state::closed);
  CHECK(h.uut.status(t0).failures == 9);
  h.fail(t0);
  CHECK(h.uut.state() == breaker_state::open);
  CHECK(h.transitions
        == std::vector<edge>{{breaker_state::closed, breaker_state::open}});
  SECTION("one call is enough when min_calls is 1") {
    auto c = rate_only();
    c.min_calls = 1;
    harness one{c};
    one.fail(t0);
    CHECK(one.uut.state() == breaker_state::open);
  }
}

TEST_CASE("timeouts count as failures towards the failure rate",
          "[circuit_breaker]") {
  harness h{rate_only()};
  for (int i = 0; i < 5; ++i)
    h.call(t0, call_result::success);
  for (int i = 0; i < 4; ++i)
    h.call(t0, call_result::timeout);
  CHECK(h.uut.state() == breaker_state::closed);
  h.call(t0, call_result::timeout);
  CHECK(h.uut.state() == breaker_state::open);
}

TEST_CASE("N consecutive failures trip regardless of min_calls",
          "[circuit_breaker][edge]") {
  harness h;
  h.fail(t0, 4);
  CHECK(h.uut.state() == breaker_state::closed);
  CHECK(h.uut.status(t0).consecutive_failures == 4);
  SECTION("the fifth failure trips") {
    h.fail(t0);
    CHECK(h.uut.state() == breaker_state::open);
    CHECK(h.uut.status(t0).last_trip == trip_reason::consecutive_failures);
    // The listener is told why (the log line names it).
    REQUIRE(h.reasons.size() == 1);
    CHECK(h.reasons.back() == trip_reason::consecutive_failures);
  }
  SECTION("a timeout is the fifth failure too") {
    h.call(t0, call_result::timeout);
    CHECK(h.uut.state() == breaker_state::open);
  }
  SECTION("a success in between starts the count again") {
    h.call(t0, call_result::success);
    CHECK(h.uut.status(t0).consecutive_failures == 0);
    h.fail(t0, 4);
    CHECK(h.uut.state() == breaker_state::closed);
    h.fail(t0);
    CHECK(h.uut.state() == breaker_state::open);
  }
  SECTION("a slow success also starts the count again") {
    h.call(t0, call_result::success, 5s);
    h.fail(t0, 4);
    CHECK(h.uut.state() == breaker_state::closed);
  }
  SECTION("the count spans window boundaries") {
    h.fail(t0 + 1h);
    CHECK(h.uut.state() == breaker_state::open);
  }
}

TEST_CASE("a call is slow only when strictly longer than slow_call",
          "[circuit_breaker][edge]") {
  harness h;
  h.call(t0, call_result::success, 1s);
  CHECK(h.uut.status(t0).slow_calls == 0);
  h.call(t0, call_result::success, 1s + 1ns);
  CHECK(h.uut.status(t0).slow_calls == 1);
  h.call(t0, call_result::failure, 2s);
  CHECK(h.uut.status(t0).slow_calls == 2);
}

TEST_CASE("the slow-call rate trips at exactly the threshold",
          "[circuit_breaker][edge]") {
  // Default 80 % with min_calls 10: 8 slow of 10 trips, 7 does not.
  for (int slow = 0; slow <= 10; ++slow) {
    harness h;
    for (int i = 0; i < 10 - slow; ++i)
      h.call(t0, call_result::success, 10ms);
    for (int i = 0; i < slow; ++i)
      h.call(t0, call_result::success, 2s);
    INFO("slow " << slow);
    REQUIRE((h.uut.state() == breaker_state::open) == (slow >= 8));
    if (slow >= 8)
      CHECK(h.uut.status(t0).last_trip == trip_reason::slow_call_rate);
  }
  SECTION("nine slow calls are below min_calls") {
    harness h;
    for (int i = 0; i < 9; ++i)
      h.call(t0, call_result::success, 2s);
    CHECK(h.uut.state() == breaker_state::closed);
  }
}

TEST_CASE("a trip names consecutive failures before rates, failure before "
          "slow",
          "[circuit_breaker]") {
  SECTION("all three hold: consecutive failures") {
    harness h;
    for (int i = 0; i < 5; ++i)
      h.call(t0, call_result::success, 2s);
    for (int i = 0; i < 5; ++i)
      h.call(t0, call_result::failure, 2s);
    CHECK(h.uut.status(t0).last_trip == trip_reason::consecutive_failures);
  }
  SECTION("both rates hold: failure rate") {
    auto c = rate_only();
    c.slow_call_rate_percent = 50;
    harness h{c};
    for (int i = 0; i < 5; ++i)
      h.call(t0, call_result::success, 2s);
    for (int i = 0; i < 5; ++i)
      h.call(t0, call_result::failure, 2s);
    CHECK(h.uut.status(t0).last_trip == trip_reason::failure_rate);
  }
}

TEST_CASE("old outcomes leave the rolling window bucket by bucket",
          "[circuit_breaker][window]") {
  // 10 buckets of 1 s: the window at now holds buckets (B - 10, B].
  harness h{rate_only()};
  h.fail(t0 + 500ms, 9);
  SECTION("the counts drop to zero one window later") {
    CHECK(h.uut.status(t0 + 9999ms).calls == 9);
    CHECK(h.uut.status(t0 + 10s).calls == 0);
  }
  SECTION("a tenth failure in the last bucket of the window trips") {
    h.fail(t0 + 9999ms);
    CHECK(h.uut.state() == breaker_state::open);
  }
  SECTION("a tenth failure one bucket later does not") {
    h.fail(t0 + 10s);
    CHECK(h.uut.state() == breaker_state::closed);
    CHECK(h.uut.status(t0 + 10s).failures == 1);
  }
  SECTION("successes rolling off raise the failure rate on the next record") {
    harness r{rate_only()};
    for (int i = 0; i < 10; ++i)
      r.call(t0, call_result::success);
    r.fail(t0 + 5s, 9);
    CHECK(r.uut.status(t0 + 5s).failures == 9);
    CHECK(r.uut.state() == breaker_state::closed);
    r.fail(t0 + 10s);
    CHECK(r.uut.state() == breaker_state::open);
  }
}

TEST_CASE("the window ring reuses a slot for a bucket one window later",
          "[circuit_breaker][window]") {
  harness h{rate_only()};
  h.fail(t0, 3);
  h.call(t0 + 3s, call_result::success, 2s);
  auto s = h.uut.status(t0 + 3s);
  CHECK(s.calls == 4);
  CHECK(s.failures == 3);
  CHECK(s.slow_calls == 1);
  // t0 + 10 s maps to t0's slot; its old counts must not leak in.
  h.call(t0 + 10s, call_result::success);
  s = h.uut.status(t0 + 10s);
  CHECK(s.calls == 2);
  CHECK(s.failures == 0);
  CHECK(s.slow_calls == 1);
}

TEST_CASE("a time earlier than one already seen counts as the latest",
          "[circuit_breaker][window]") {
  harness h{rate_only()};
  auto permit = h.uut.allow(t0 + 20s);
  h.uut.record(permit, call_result::failure, 1ms, t0);
  auto s = h.uut.status(t0 + 29s);
  CHECK(s.calls == 1);
  CHECK(s.failures == 1);
}

TEST_CASE("times before the clock's epoch fall into floored buckets",
          "[circuit_breaker][window]") {
  // Truncating division would put -9.5 s into bucket -9, inside the window
  // at +0.5 s (buckets -9 .. 0); floor puts it into -10, outside.
  harness h{rate_only()};
  h.fail(time_point{} - 9500ms, 9);
  CHECK(h.uut.status(time_point{} - 500ms).calls == 9);
  CHECK(h.uut.status(time_point{} + 500ms).calls == 0);
}

// -- open, half-open -------------------------------------------------------

TEST_CASE("an open breaker rejects calls until the open period has elapsed",
          "[circuit_breaker][edge]") {
  harness h;
  h.fail(t0, 5);
  REQUIRE(h.uut.state() == breaker_state::open);
  auto s = h.uut.status(t0 + 1s);
  CHECK(s.open_period == 5s);
  CHECK(s.next_probe_in == 4s);
  CHECK_FALSE(h.uut.allow(t0));
  CHECK_FALSE(h.uut.allow(t0 + 5s - 1ns));
  CHECK(h.uut.state() == breaker_state::open);
  CHECK(h.uut.status(t0 + 5s - 1ns).next_probe_in == 1ns);
  CHECK(static_cast<bool>(h.uut.allow(t0 + 5s)));
  CHECK(h.uut.state() == breaker_state::half_open);
  CHECK(h.transitions
        == std::vector<edge>{{breaker_state::closed, breaker_state::open},
                             {breaker_state::open, breaker_state::half_open}});
}

TEST_CASE("half-open admits exactly half_open_probes calls",
          "[circuit_breaker][edge]") {
  for (uint32_t probes = 1; probes <= 5; ++probes) {
    circuit_breaker_config c;
    c.half_open_probes = probes;
    harness h{c};
    h.fail(t0, 5);
    auto at = t0 + 5s;
    std::vector<breaker_permit> admitted;
    for (uint32_t i = 0; i < probes; ++i) {
      auto p = h.uut.allow(at);
      REQUIRE(static_cast<bool>(p));
      admitted.push_back(p);
    }
    INFO("probes " << probes);
    CHECK_FALSE(h.uut.allow(at));
    CHECK(h.uut.status(at).probes_admitted == probes);
    // Reports of all but the last probe keep the circuit half-open and do
    // not free a slot: a round is half_open_probes calls in total.
    for (uint32_t i = 0; i + 1 < probes; ++i) {
      h.uut.record(admitted[i], call_result::success, 1ms, at);
      CHECK(h.uut.state() == breaker_state::half_open);
      CHECK_FALSE(h.uut.allow(at));
    }
    CHECK(h.uut.status(at).probes_succeeded == probes - 1);
    h.uut.record(admitted.back(), call_result::success, 1ms, at);
    CHECK(h.uut.state() == breaker_state::closed);
    CHECK(h.transitions.back()
          == edge{breaker_state::half_open, breaker_state::closed});
    CHECK(h.reasons.back() == trip_reason::none); // no reason to close
  }
}

TEST_CASE("any failed, timed-out or slow probe reopens the circuit",
          "[circuit_breaker][edge]") {
  auto [result, took] = GENERATE(
    std::pair<call_result, duration>{call_result::failure, 1ms},
    std::pair<call_result, duration>{call_result::timeout, 1ms},
    std::pair<call_result, duration>{call_result::success, 1s + 1ns});
  harness h;
  h.fail(t0, 5);
  auto at = t0 + 5s;
  auto p1 = h.uut.allow(at);
  auto p2 = h.uut.allow(at);
  auto p3 = h.uut.allow(at);
  h.uut.record(p1, call_result::success, 1ms, at);
  h.uut.record(p2, result, took, at);
  CHECK(h.uut.state() == breaker_state::open);
  auto s = h.uut.status(at);
  CHECK(s.last_trip == trip_reason::probe_failed);
  CHECK(s.open_period == 10s);
  // The third probe answers late: it belongs to a finished round.
  h.uut.record(p3, call_result::success, 1ms, at);
  CHECK(h.uut.state() == breaker_state::open);
  CHECK(h.transitions.back()
        == edge{breaker_state::half_open, breaker_state::open});
}

TEST_CASE("the open period doubles per failed probe up to the cap",
          "[circuit_breaker][edge]") {
  harness h; // u = 0: no jitter taken off
  h.fail(t0, 5);
  auto at = t0;
  std::vector<duration> periods;
  for (int round = 0; round < 8; ++round) {
    auto s = h.uut.status(at);
    REQUIRE(s.state == breaker_state::open);
    periods.push_back(s.open_period);
    at += s.next_probe_in;
    auto probe = h.uut.allow(at);
    REQUIRE(static_cast<bool>(probe));
    h.uut.record(probe, call_result::failure, 1ms, at);
  }
  CHECK(periods
        == std::vector<duration>{5s, 10s, 20s, 40s, 60s, 60s, 60s, 60s});
  // One draw per open period: the trip and each of the eight failed probes.
  CHECK(h.draws == 9);
  SECTION("closing resets the period to the base") {
    at += 60s;
    for (int i = 0; i < 3; ++i)
      h.call(at, call_result::success);
    REQUIRE(h.uut.state() == breaker_state::closed);
    CHECK(h.uut.status(at).open_period == 0s);
    CHECK(h.uut.status(at).last_trip == trip_reason::none);
    h.fail(at, 5);
    CHECK(h.uut.status(at).open_period == 5s);
  }
}

TEST_CASE("jitter takes at most jitter_percent off the nominal period",
          "[circuit_breaker][edge]") {
  SECTION("a draw just below 1 gives just above 80 %") {
    harness h;
    h.u = std::nextafter(1.0, 0.0);
    h.fail(t0, 5);
    auto period = h.uut.status(t0).open_period;
    CHECK(period > 4s);
    CHECK(period <= 4s + 1us);
  }
  SECTION("a draw of one half takes off half the jitter") {
    harness h;
    h.u = 0.5;
    h.fail(t0, 5);
    CHECK(h.uut.status(t0).open_period == 4500ms);
  }
  SECTION("draws outside [0, 1) are clamped") {
    harness high;
    high.u = 7.0;
    high.fail(t0, 5);
    CHECK(high.uut.status(t0).open_period > 4s);
    harness low;
    low.u = -3.0;
    low.fail(t0, 5);
    CHECK(low.uut.status(t0).open_period == 5s);
    harness nan;
    nan.u = std::nan("");
    nan.fail(t0, 5);
    CHECK(nan.uut.status(t0).open_period == 5s);
  }
  SECTION("the built-in source stays inside the bounds at every step") {
    circuit_breaker_config c;
    c.jitter_seed = 42;
    circuit_breaker uut{c};
    for (int i = 0; i < 5; ++i) {
      auto p = uut.allow(t0);
      uut.record(p, call_result::failure, 1ms, t0);
    }
    auto at = t0;
    duration nominal = 5s;
    std::set<duration::rep> seen;
    for (int round = 0; round < 200; ++round) {
      auto s = uut.status(at);
      REQUIRE(s.state == breaker_state::open);
      CHECK(s.open_period > nominal * 4 / 5);
      CHECK(s.open_period <= nominal);
      seen.insert(s.open_period.count());
      at += s.next_probe_in;
      auto probe = uut.allow(at);
      uut.record(probe, call_result::timeout, 1ms, at);
      nominal = std::min<duration>(nominal * 2, 60s);
    }
    // The draws vary: a constant source would defeat the jitter.
    CHECK(seen.size() > 100);
  }
}

TEST_CASE("the built-in jitter source repeats for a seed and differs across "
          "seeds",
          "[circuit_breaker]") {
  auto first_period = [](uint64_t seed) {
    circuit_breaker_config c;
    c.jitter_seed = seed;
    circuit_breaker uut{c};
    for (int i = 0; i < 5; ++i)
      uut.record(uut.allow(t0), call_result::failure, 1ms, t0);
    return uut.status(t0).open_period;
  };
  CHECK(first_period(7) == first_period(7));
  CHECK(first_period(7) != first_period(8));
}

TEST_CASE("an outcome from before a state change is ignored",
          "[circuit_breaker][edge]") {
  harness h;
  auto late = h.uut.allow(t0);
  h.fail(t0, 5);
  REQUIRE(h.uut.state() == breaker_state::open);
  SECTION("while open") {
    h.uut.record(late, call_result::failure, 1ms, t0 + 1s);
    CHECK(h.uut.status(t0 + 1s).open_period == 5s);
    CHECK(h.uut.state() == breaker_state::open);
  }
  SECTION("a late success is not a probe") {
    auto probe = h.uut.allow(t0 + 5s);
    REQUIRE(h.uut.state() == breaker_state::half_open);
    h.uut.record(late, call_result::success, 1ms, t0 + 5s);
    CHECK(h.uut.status(t0 + 5s).probes_succeeded == 0);
    h.uut.record(probe, call_result::success, 1ms, t0 + 5s);
    CHECK(h.uut.status(t0 + 5s).probes_succeeded == 1);
  }
  SECTION("a late failure does not reopen") {
    h.uut.allow(t0 + 5s);
    h.uut.record(late, call_result::failure, 1ms, t0 + 5s);
    CHECK(h.uut.state() == breaker_state::half_open);
  }
  SECTION("a rejected permit reports nothing") {
    for (int i = 0; i < 3; ++i)
      REQUIRE(h.uut.allow(t0 + 5s));
    auto rejected = h.uut.allow(t0 + 5s);
    REQUIRE_FALSE(rejected);
    h.uut.record(rejected, call_result::failure, 1ms, t0 + 5s);
    CHECK(h.uut.state() == breaker_state::half_open);
  }
}

TEST_CASE("a probe reported twice counts once", "[circuit_breaker]") {
  harness h;
  h.fail(t0, 5);
  auto probe = h.uut.allow(t0 + 5s);
  for (int i = 0; i < 3; ++i)
    h.uut.record(probe, call_result::success, 1ms, t0 + 5s);
  CHECK(h.uut.state() == breaker_state::half_open);
  CHECK(h.uut.status(t0 + 5s).probes_succeeded == 1);
}

// -- restart and operator overrides ----------------------------------------

TEST_CASE("a restarted worker is probed: the breaker starts half-open",
          "[circuit_breaker][edge]") {
  SECTION("from closed, and a failed probe doubles the base period") {
    harness h;
    h.fail(t0, 3);
    h.uut.on_worker_restarted(t0);
    CHECK(h.uut.state() == breaker_state::half_open);
    CHECK(h.uut.status(t0).consecutive_failures == 0);
    h.fail(t0);
    CHECK(h.uut.status(t0).open_period == 10s);
  }
  SECTION("from open, before the period elapsed") {
    harness h;
    h.fail(t0, 5);
    h.uut.on_worker_restarted(t0 + 1s);
    CHECK(h.uut.state() == breaker_state::half_open);
    CHECK(static_cast<bool>(h.uut.allow(t0 + 1s)));
  }
  SECTION("from half-open, with a fresh round and no transition") {
    harness h;
    h.fail(t0, 5);
    auto old = h.uut.allow(t0 + 5s);
    h.uut.allow(t0 + 5s);
    h.uut.allow(t0 + 5s);
    auto seen = h.transitions.size();
    h.uut.on_worker_restarted(t0 + 6s);
    CHECK(h.transitions.size() == seen);
    CHECK(h.uut.status(t0 + 6s).probes_admitted == 0);
    h.uut.record(old, call_result::failure, 1ms, t0 + 6s);
    CHECK(h.uut.state() == breaker_state::half_open);
  }
  SECTION("not under an operator override") {
    harness h;
    h.uut.force_open();
    h.uut.on_worker_restarted(t0);
    CHECK(h.uut.state() == breaker_state::forced_open);
    h.uut.disable();
    h.uut.on_worker_restarted(t0);
    CHECK(h.uut.state() == breaker_state::disabled);
  }
}

TEST_CASE("forced-open rejects every call until reset_to_auto",
          "[circuit_breaker][edge]") {
  harness h;
  h.fail(t0, 2);
  h.uut.force_open();
  for (int i = 0; i < 100; ++i)
    CHECK_FALSE(h.uut.allow(t0 + i * 1h));
  auto s = h.uut.status(t0);
  CHECK(s.state == breaker_state::forced_open);
  CHECK(s.next_probe_in == 0s);
  h.uut.force_open();
  h.uut.reset_to_auto();
  CHECK(h.uut.state() == breaker_state::closed);
  CHECK(h.uut.status(t0 + 100h).calls == 0);
  // The two failures before the override are forgotten.
  h.fail(t0 + 100h, 4);
  CHECK(h.uut.state() == breaker_state::closed);
  CHECK(
    h.transitions
    == std::vector<edge>{{breaker_state::closed, breaker_state::forced_open},
                         {breaker_state::forced_open, breaker_state::closed}});
}

TEST_CASE("disabled allows every call, tracks nothing and never trips",
          "[circuit_breaker][edge]") {
  harness h;
  h.uut.disable();
  for (int i = 0; i < 1000; ++i)
    REQUIRE(h.call(t0 + i * 1ms, call_result::timeout, 1h));
  auto s = h.uut.status(t0 + 1s);
  CHECK(s.state == breaker_state::disabled);
  CHECK(s.calls == 0);
  CHECK(s.consecutive_failures == 0);
  h.uut.reset_to_auto();
  CHECK(h.uut.state() == breaker_state::closed);
  h.fail(t0 + 2s, 4);
  CHECK(h.uut.state() == breaker_state::closed);
}

TEST_CASE("reset_to_auto outside an override changes nothing",
          "[circuit_breaker]") {
  harness h;
  h.fail(t0, 4);
  h.uut.reset_to_auto();
  CHECK(h.uut.status(t0).consecutive_failures == 4);
  h.fail(t0);
  h.uut.reset_to_auto();
  CHECK(h.uut.state() == breaker_state::open);
  CHECK(h.transitions.size() == 1);
}

// Every (state, event) pair: the state after and the one edge reported.
TEST_CASE("every state reacts to every event as the diagram says",
          "[circuit_breaker][edge]") {
  enum event { fail5, succeed3, wait, restart, force, disable, reset };
  using S = breaker_state;
  // Rows: closed, half_open, open, forced_open, disabled.
  const std::map<S, std::vector<S>> expected = {
    {S::closed,
     {S::open, S::closed, S::closed, S::half_open, S::forced_open, S::disabled,
      S::closed}},
    {S::half_open,
     {S::open, S::closed, S::half_open, S::half_open, S::forced_open,
      S::disabled, S::half_open}},
    {S::open,
     {S::open, S::open, S::half_open, S::half_open, S::forced_open, S::disabled,
      S::open}},
    {S::forced_open,
     {S::forced_open, S::forced_open, S::forced_open, S::forced_open,
      S::forced_open, S::disabled, S::closed}},
    {S::disabled,
     {S::disabled, S::disabled, S::disabled, S::disabled, S::forced_open,
      S::disabled, S::closed}},
  };
  for (auto from : all_states) {
    for (int ev = fail5; ev <= reset; ++ev) {
      harness h;
      auto at = t0;
      if (from == S::open || from == S::half_open)
        h.fail(at, 5);
      if (from == S::half_open) {
        at += 5s;
        h.uut.status(at);
      }
      if (from == S::forced_open)
        h.uut.force_open();
      if (from == S::disabled)
        h.uut.disable();
      REQUIRE(h.uut.state() == from);
      h.transitions.clear();
      switch (ev) {
        case fail5:
          h.fail(at, 5);
          break;
        case succeed3:
          for (int i = 0; i < 3; ++i)
            h.call(at, call_result::success);
          break;
        case wait:
          h.uut.status(at + 61s);
          break;
        case restart:
          h.uut.on_worker_restarted(at);
          break;
        case force:
          h.uut.force_open();
          break;
        case disable:
          h.uut.disable();
          break;
        case reset:
          h.uut.reset_to_auto();
          break;
      }
      auto to = expected.at(from)[static_cast<size_t>(ev)];
      INFO("from " << to_string(from) << " event " << ev);
      CHECK(h.uut.state() == to);
      if (from == to)
        CHECK(h.transitions.empty());
      else
        CHECK(h.transitions == std::vector<edge>{{from, to}});
    }
  }
}

TEST_CASE("the status snapshot describes each state", "[circuit_breaker]") {
  harness h;
  h.call(t0, call_result::success, 2s);
  h.fail(t0, 2);
  auto s = h.uut.status(t0);
  CHECK(s.state == breaker_state::closed);
  CHECK(s.calls == 3);
  CHECK(s.failures == 2);
  CHECK(s.slow_calls == 1);
  CHECK(s.consecutive_failures == 2);
  CHECK(s.next_probe_in == 0s);
  CHECK(s.open_period == 0s);
  CHECK(s.last_trip == trip_reason::none);
  h.fail(t0, 3);
  s = h.uut.status(t0 + 2s);
  CHECK(s.state == breaker_state::open);
  CHECK(s.calls == 0);
  CHECK(s.consecutive_failures == 0);
  CHECK(s.next_probe_in == 3s);
  CHECK(s.open_period == 5s);
  CHECK(s.last_trip == trip_reason::consecutive_failures);
  h.call(t0 + 5s, call_result::success);
  h.uut.allow(t0 + 5s);
  s = h.uut.status(t0 + 5s);
  CHECK(s.state == breaker_state::half_open);
  CHECK(s.probes_admitted == 2);
  CHECK(s.probes_succeeded == 1);
  CHECK(s.next_probe_in == 0s);
  CHECK(s.open_period == 5s);
}

// -- randomized comparison with a naive reference model --------------------

namespace {

// The spec, written for clarity instead of speed: every outcome of the
// current closed period sits in a vector and everything is recomputed.
struct naive_breaker {
  struct event {
    time_point at;
    bool failed;
    bool slow;
  };

  circuit_breaker_config cfg;
  std::function<double()> uniform;
  breaker_state state = breaker_state::closed;
  time_point now = time_point::min();
  std::vector<event> events;
  std::set<uint64_t> live; // permits whose outcome still counts
  uint64_t next_permit = 1;
  uint32_t admitted = 0;
  uint32_t succeeded = 0;
  uint32_t failed_probes = 0;
  time_point open_until{};
  duration open_period{0};
  trip_reason last_trip = trip_reason::none;
  std::vector<edge> transitions;

  void go(breaker_state to) {
    if (to != state)
      transitions.emplace_back(state, to);
    state = to;
    events.clear();
    live.clear();
    admitted = 0;
    succeeded = 0;
    if (to == breaker_state::closed) {
      failed_probes = 0;
      open_period = duration{0};
      last_trip = trip_reason::none;
    }
  }

  void tick(time_point t) {
    if (t > now)
      now = t;
    if (state == breaker_state::open && now >= open_until)
      go(breaker_state::half_open);
  }

  // Returns the permit id, 0 if rejected.
  uint64_t allow(time_point t) {
    tick(t);
    bool ok = state == breaker_state::closed || state == breaker_state::disabled
              || (state == breaker_state::half_open
                  && admitted < cfg.half_open_probes);
    if (!ok)
      return 0;
    if (state == breaker_state::half_open)
      ++admitted;
    live.insert(next_permit);
    return next_permit++;
  }

  int64_t bucket_of(time_point t) const {
    return (t - time_point{}) / duration{cfg.bucket};
  }

  // {calls, failures, slow} in the window at `now`.
  std::array<uint64_t, 3> window() const {
    std::array<uint64_t, 3> n{0, 0, 0};
    int64_t buckets = cfg.window / cfg.bucket;
    for (auto& e : events) {
      auto age = bucket_of(now) - bucket_of(e.at);
      if (age >= 0 && age < buckets) {
        n[0] += 1;
        n[1] += e.failed ? 1 : 0;
        n[2] += e.slow ? 1 : 0;
      }
    }
    return n;
  }

  uint64_t consecutive() const {
    uint64_t n = 0;
    for (auto i = events.rbegin(); i != events.rend() && i->failed; ++i)
      ++n;
    return n;
  }

  void trip(trip_reason why) {
    duration nominal = cfg.open_base;
    for (uint32_t i = 0; i < failed_probes; ++i)
      nominal = std::min<duration>(nominal * 2, cfg.open_max);
    double u = uniform();
    auto cut = static_cast<duration::rep>(static_cast<double>(nominal.count())
                                          * cfg.jitter_percent / 100.0 * u);
    open_period = nominal - duration{cut};
    open_until = now + open_period;
    last_trip = why;
    go(breaker_state::open);
  }

  void record(uint64_t permit, call_result r, duration took, time_point t) {
    tick(t);
    if (live.erase(permit) == 0)
      return;
    bool failed = r != call_result::success;
    bool slow = took > duration{cfg.slow_call};
    if (state == breaker_state::half_open) {
      if (failed || slow) {
        ++failed_probes;
        trip(trip_reason::probe_failed);
      } else if (++succeeded == cfg.half_open_probes) {
        go(breaker_state::closed);
      }
      return;
    }
    if (state != breaker_state::closed)
      return;
    events.push_back({now, failed, slow});
    auto w = window();
    if (consecutive() >= cfg.consecutive_failures)
      trip(trip_reason::consecutive_failures);
    else if (w[0] >= cfg.min_calls
             && w[1] * 100 >= cfg.failure_rate_percent * w[0])
      trip(trip_reason::failure_rate);
    else if (w[0] >= cfg.min_calls
             && w[2] * 100 >= cfg.slow_call_rate_percent * w[0])
      trip(trip_reason::slow_call_rate);
  }

  void restart(time_point t) {
    tick(t);
    if (state != breaker_state::forced_open && state != breaker_state::disabled)
      go(breaker_state::half_open);
  }

  breaker_status status(time_point t) {
    tick(t);
    auto w = window();
    breaker_status s;
    s.state = state;
    s.calls = w[0];
    s.failures = w[1];
    s.slow_calls = w[2];
    s.consecutive_failures = consecutive();
    s.probes_admitted = admitted;
    s.probes_succeeded = succeeded;
    if (state == breaker_state::open)
      s.next_probe_in = open_until - now;
    s.open_period = open_period;
    s.last_trip = last_trip;
    return s;
  }
};

std::string describe(const breaker_status& s) {
  std::ostringstream out;
  out << to_string(s.state) << " calls=" << s.calls
      << " failures=" << s.failures << " slow=" << s.slow_calls
      << " consecutive=" << s.consecutive_failures
      << " admitted=" << s.probes_admitted
      << " succeeded=" << s.probes_succeeded
      << " next_ns=" << s.next_probe_in.count()
      << " period_ns=" << s.open_period.count()
      << " trip=" << to_string(s.last_trip);
  return out.str();
}

bool same(const breaker_status& a, const breaker_status& b) {
  return a.state == b.state && a.calls == b.calls && a.failures == b.failures
         && a.slow_calls == b.slow_calls
         && a.consecutive_failures == b.consecutive_failures
         && a.probes_admitted == b.probes_admitted
         && a.probes_succeeded == b.probes_succeeded
         && a.next_probe_in == b.next_probe_in && a.open_period == b.open_period
         && a.last_trip == b.last_trip;
}

// SplitMix64: a seedable generator with an 8-byte state. Seeding a
// std::mt19937_64 (2.5 KB of state) three times per sequence took half the
// run time of the randomized test.
struct splitmix64 {
  using result_type = uint64_t;
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    auto z = (state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  uint64_t state;
};

// A double in [0, 1) from the top 53 bits of `g`.
double unit(splitmix64& g) {
  return static_cast<double>(g() >> 11) * 0x1.0p-53;
}

// The fixed seed of the randomized test; AUTHSTORE_TEST_SEED overrides it.
uint64_t base_seed() {
  if (auto env = std::getenv("AUTHSTORE_TEST_SEED"))
    return std::strtoull(env, nullptr, 10);
  return 20240604;
}

// A random small config, so that trips, rounds and caps happen often.
circuit_breaker_config random_config(splitmix64& rng) {
  auto pick = [&rng](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(rng);
  };
  circuit_breaker_config c;
  c.bucket = 100ms;
  c.window = c.bucket * static_cast<int>(pick(1, 6));
  c.min_calls = static_cast<uint32_t>(pick(1, 8));
  constexpr uint32_t percents[] = {1, 25, 33, 34, 50, 67, 100};
  c.failure_rate_percent
    = pick(0, 1) ? percents[pick(0, 6)] : static_cast<uint32_t>(pick(1, 100));
  c.consecutive_failures = static_cast<uint32_t>(pick(1, 8));
  c.slow_call = pick(0, 1) ? 50ms : 100ms;
  c.slow_call_rate_percent = static_cast<uint32_t>(pick(1, 100));
  c.open_base = std::chrono::milliseconds{
    static_cast<std::chrono::milliseconds::rep>(pick(1, 3) * 100)};
  c.open_max = c.open_base * static_cast<int>(pick(1, 8));
  c.jitter_percent = static_cast<uint32_t>(pick(0, 50));
  c.half_open_probes = static_cast<uint32_t>(pick(1, 4));
  return c;
}

struct run_totals {
  uint64_t steps = 0;
  std::map<edge, uint64_t> edges;
  std::map<trip_reason, uint64_t> trips;
};

// Runs sequence `seed` against both models; returns "" or what differed.
// Formatting every step would double the run time, so the step log is only
// written when `log` is set: on a replay of a sequence that failed.
std::string run_sequence(uint64_t seed, run_totals& totals,
                         std::ostringstream* log = nullptr) {
  splitmix64 rng{seed};
  auto pick = [&rng](uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>{lo, hi}(rng);
  };
  auto cfg = random_config(rng);
  // Both models draw jitter from their own copy of one sequence; a draw at
  // a different moment shows up as a different open period.
  auto jitter_seed = rng();
  splitmix64 uut_jitter{jitter_seed};
  std::vector<edge> uut_edges;
  bool reason_ok = true;
  circuit_breaker uut{cfg, [&uut_jitter] { return unit(uut_jitter); },
                      [&uut_edges, &reason_ok](breaker_state f, breaker_state t,
                                               trip_reason why) {
                        uut_edges.emplace_back(f, t);
                        // A reason exactly on the edges into open.
                        reason_ok &= (t == breaker_state::open)
                                     == (why != trip_reason::none);
                      }};
  naive_breaker ref;
  ref.cfg = cfg;
  ref.uniform = [ref_jitter = splitmix64{jitter_seed}]() mutable {
    return unit(ref_jitter);
  };
  // Each sequence has its own health: from always fine to always failing.
  auto fail_permille = pick(0, 1000);
  struct in_flight {
    breaker_permit uut;
    uint64_t ref;
  };
  std::vector<in_flight> calls;
  auto trace = [log](auto&&... xs) {
    if (log)
      (*log << ... << xs);
  };
  auto with_log = [log](std::string what) {
    return log ? log->str() + what : what;
  };
  trace("window_ms=", cfg.window.count(), " min_calls=", cfg.min_calls,
        " failure%=", cfg.failure_rate_percent,
        " consecutive=", cfg.consecutive_failures,
        " slow_ms=", cfg.slow_call.count(),
        " slow%=", cfg.slow_call_rate_percent,
        " open_base_ms=", cfg.open_base.count(),
        " open_max_ms=", cfg.open_max.count(), " jitter%=", cfg.jitter_percent,
        " probes=", cfg.half_open_probes, "\n");
  auto at = t0;
  auto steps = pick(1, 40);
  size_t seen_edges = 0;
  for (uint64_t step = 0; step < steps; ++step) {
    switch (pick(0, 9)) {
      case 0:
      case 1:
      case 2:
        break;
      case 3:
      case 4:
      case 5:
      case 6:
        at += duration{static_cast<duration::rep>(
          pick(1, static_cast<uint64_t>(duration{cfg.bucket}.count())))};
        break;
      case 7:
      case 8:
        at += cfg.bucket - (at - time_point{}) % cfg.bucket;
        break;
      default:
        at += std::chrono::milliseconds{static_cast<int64_t>(
          pick(0, static_cast<uint64_t>(3 * cfg.open_max.count())))};
    }
    auto op = pick(0, 99);
    trace("t+", (at - t0).count(), "ns ");
    if (op < 40) {
      auto p = uut.allow(at);
      auto r = ref.allow(at);
      trace("allow->", static_cast<bool>(p), "\n");
      if (static_cast<bool>(p) != (r != 0))
        return with_log("allow differs");
      if (r != 0)
        calls.push_back({p, r});
    } else if (op < 80) {
      if (calls.empty()) {
        trace("no call in flight\n");
        continue;
      }
      auto i = pick(0, calls.size() - 1);
      auto c = calls[i];
      calls.erase(calls.begin() + static_cast<std::ptrdiff_t>(i));
      auto roll = pick(0, 999);
      auto r = roll >= fail_permille ? call_result::success
               : roll % 3 == 0       ? call_result::timeout
                                     : call_result::failure;
      duration took;
      switch (pick(0, 3)) {
        case 0:
          took = cfg.slow_call;
          break;
        case 1:
          took = cfg.slow_call + 1ns;
          break;
        case 2:
          took = 1ms;
          break;
        default:
          took = std::chrono::milliseconds{static_cast<int64_t>(
            pick(0, static_cast<uint64_t>(3 * cfg.slow_call.count())))};
      }
      trace("record ", to_string(r), " ", took.count(), "ns\n");
      uut.record(c.uut, r, took, at);
      ref.record(c.ref, r, took, at);
    } else if (op < 90) {
      auto a = uut.status(at);
      auto b = ref.status(at);
      trace("status\n");
      if (!same(a, b))
        return with_log("status differs: " + describe(a) + " vs reference "
                        + describe(b));
    } else if (op < 94) {
      trace("restart\n");
      uut.on_worker_restarted(at);
      ref.restart(at);
    } else if (op < 96) {
      trace("force_open\n");
      uut.force_open();
      ref.go(breaker_state::forced_open);
    } else if (op < 98) {
      trace("disable\n");
      uut.disable();
      ref.go(breaker_state::disabled);
    } else {
      trace("reset_to_auto\n");
      uut.reset_to_auto();
      if (ref.state == breaker_state::forced_open
          || ref.state == breaker_state::disabled)
        ref.go(breaker_state::closed);
    }
    ++totals.steps;
    if (ref.transitions.size() > seen_edges) {
      seen_edges = ref.transitions.size();
      if (ref.transitions.back().second == breaker_state::open)
        ++totals.trips[ref.last_trip];
    }
    if (uut.state() != ref.state)
      return with_log("state differs: " + std::string{to_string(uut.state())}
                      + " vs reference " + std::string{to_string(ref.state)});
  }
  auto a = uut.status(at);
  auto b = ref.status(at);
  if (!same(a, b))
    return with_log("final status differs: " + describe(a) + " vs reference "
                    + describe(b));
  if (uut_edges != ref.transitions)
    return with_log("transitions differ");
  if (!reason_ok)
    return with_log("a transition's reason is missing or misplaced");
  for (auto& e : uut_edges)
    ++totals.edges[e];
  return {};
}

} // namespace

TEST_CASE("the breaker matches a naive reference model on 100000 random "
          "sequences",
          "[circuit_breaker][random]") {
  auto seed = base_seed();
  run_totals totals;
  constexpr uint64_t sequences = 100'000;
  for (uint64_t i = 0; i < sequences; ++i) {
    if (run_sequence(seed + i, totals).empty())
      continue;
    std::ostringstream log;
    run_totals ignored;
    auto diff = run_sequence(seed + i, ignored, &log);
    FAIL("AUTHSTORE_TEST_SEED=" << seed << " sequence " << i << " (rng seed "
                                << seed + i << ")\n"
                                << diff);
  }
  INFO("seed " << seed << ", " << totals.steps << " steps");
  // The run must have exercised the machine, not idled in closed.
  CHECK(totals.steps > sequences * 10);
  // Every edge of the diagram (all 15 edges between distinct states that
  // the breaker can take) and every trip reason happened many times.
  for (auto from : all_states) {
    for (auto to : all_states) {
      bool possible
        = from != to
          && !(from == breaker_state::open && to == breaker_state::closed)
          && !(to == breaker_state::half_open
               && (from == breaker_state::forced_open
                   || from == breaker_state::disabled))
          && !(to == breaker_state::open
               && (from == breaker_state::forced_open
                   || from == breaker_state::disabled));
      INFO(to_string(from) << " -> " << to_string(to));
      if (possible)
        CHECK(totals.edges[edge{from, to}] > 1000);
      else
        CHECK(totals.edges[edge{from, to}] == 0);
    }
  }
  for (auto why : {trip_reason::consecutive_failures, trip_reason::failure_rate,
                   trip_reason::slow_call_rate, trip_reason::probe_failed}) {
    INFO(to_string(why));
    CHECK(totals.trips[why] > 1000);
  }
}

} // namespace circuit_breaker_test
