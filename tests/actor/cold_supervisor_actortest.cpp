// The cold supervisor's protocol against a fake worker that succeeds, fails,
// hangs, answers late or crashes on command (tests/actor/fake_cold_worker.hpp).
//
// These run on CAF's real scheduler: the supervisor's behaviour under a
// crash (down messages, bounced requests, restart timers) is what is under
// test, and the deterministic test coordinator does not model a worker dying
// mid-call. Time bounds are tens of milliseconds and every wait polls with a
// deadline, so the file runs in a few seconds; upper bounds on elapsed time
// are generous and only separate "answered by the supervisor" from "waited
// for a timeout that is orders of magnitude longer".
#include "actors/cold_supervisor.hpp"

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

#include "tests/actor/cold_supervisor_harness.hpp"
#include "tests/actor/fake_cold_worker.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_supervisor_actortest {

using namespace authstore;
using namespace authstore::testing;
using authstore::test::wait_until;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const std::string sid = "s1";

size_t edge(breaker_state from, breaker_state to) {
  return static_cast<size_t>(from) * 5 + static_cast<size_t>(to);
}

struct fixture : authstore::test::cold_supervisor_harness {
  std::shared_ptr<fake_cold_control> ctl
    = std::make_shared<fake_cold_control>();

  fixture() : cold_supervisor_harness(10s) {
    scfg.call_timeout = 50ms;
    scfg.restart_backoff_base = 20ms;
    scfg.restart_backoff_max = 40ms;
    scfg.index_retry = 30ms;
    scfg.breaker.open_base = 10s;
    scfg.breaker.jitter_seed = 1;
    scfg.make_worker = fake_cold_factory(ctl);
    scfg.backend = "fakedb";
  }

  ~fixture() {
    // The latest fake's handle goes before the harness waits for every
    // actor to stop.
    std::lock_guard<std::mutex> guard{ctl->mtx};
    ctl->latest = nullptr;
  }

  /// Spawns the supervisor and waits until its first worker is initialized.
  void start() {
    start_supervisor();
    REQUIRE(wait_until([&] { return ctl->inits.load() >= 1; }, 3s, 2ms));
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "every data call reaches the worker and its answer "
                 "reaches the caller",
                 "[cold-supervisor]") {
  ctl->snapshot
    = {true, 7, {{"c:me", false, "1"}, {"k:pre-key/1", false, "2"}}};
  start();
  auto all = load(); // before the persist: the fake answers `snapshot`
  REQUIRE(all);
  CHECK(*all == ctl->snapshot);
  auto v = persist(9);
  REQUIRE(v);
  CHECK(*v == 9);
  CHECK(ctl->calls == 2);
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    REQUIRE(ctl->persists.size() == 1);
    CHECK(ctl->persists[0].version == 9);
  }
  REQUIRE(wait_until([&] { return status().indexes_ok; }, 3s, 2ms));
  auto s = status();
  CHECK(s.state_name == "closed");
  CHECK(s.calls_succeeded == 2);
  CHECK(s.window_calls == 2);
  CHECK(s.window_failures == 0);
  CHECK(s.in_flight == 0);
  CHECK(s.worker_up);
  CHECK(s.index_detail.empty());
  // The label of the cold metrics comes from the configured backend.
  CHECK(s.backend == "fakedb");
}

TEST_CASE_METHOD(fixture,
                 "a worker error reaches the caller as that error, "
                 "never as not found",
                 "[cold-supervisor][invariant-4]") {
  start();
  ctl->mode = fake_mode::fail;
  auto r = load();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  auto p = persist(3);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::cold_error);
  auto s = status();
  CHECK(s.calls_failed == 2);
  CHECK(s.window_failures == 2);
  CHECK(s.consecutive_failures == 2);
}

TEST_CASE_METHOD(fixture,
                 "a worker that never answers gives the caller a "
                 "timeout error within the call timeout",
                 "[cold-supervisor][invariant-5]") {
  start();
  ctl->mode = fake_mode::hang;
  auto t0 = steady::now();
  auto r = load();
  auto elapsed = steady::now() - t0;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(r.error().detail.find("within 50 ms") != std::string::npos);
  CHECK(elapsed >= scfg.call_timeout);
  CHECK(elapsed < 2s); // the caller's own bound is 10 s
  auto s = status();
  CHECK(s.calls_timed_out == 1);
  CHECK(s.window_failures == 1);
  CHECK(s.in_flight == 0);
}

TEST_CASE_METHOD(fixture,
                 "a late answer after the timeout counts once, as "
                 "the timeout, and confuses no later call",
                 "[cold-supervisor]") {
  ctl->late_delay = 150ms;
  start();
  ctl->mode = fake_mode::late;
  auto r = persist(5);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  REQUIRE(wait_until([&] { return ctl->late_answers.load() == 1; }, 3s, 2ms));
  ctl->mode = fake_mode::succeed;
  auto next = persist(6);
  REQUIRE(next);
  CHECK(*next == 6);
  auto s = status();
  CHECK(s.calls_timed_out == 1);
  CHECK(s.calls_succeeded == 1);
  CHECK(s.window_calls == 2);
  CHECK(s.window_failures == 1);
}

TEST_CASE_METHOD(fixture,
                 "a slow answer within the timeout is a success "
                 "that counts as slow",
                 "[cold-supervisor]") {
  scfg.call_timeout = 2s;
  scfg.breaker.slow_call = 10ms;
  ctl->late_delay = 40ms;
  start();
  ctl->mode = fake_mode::late;
  auto r = persist(4);
  REQUIRE(r);
  CHECK(*r == 4);
  auto s = status();
  CHECK(s.calls_succeeded == 1);
  CHECK(s.window_slow_calls == 1);
  CHECK(s.window_failures == 0);
}

TEST_CASE_METHOD(fixture,
                 "callers waiting on a worker that crashes get an "
                 "error at once, the worker restarts, and the "
                 "breaker comes back half-open",
                 "[cold-supervisor][invariant-5]") {
  scfg.call_timeout = 5s; // an error must come from the crash, not this
  start();
  ctl->mode = fake_mode::hang;
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 3; ++i)
    self->send(cold, load_atom::value, sid);
  REQUIRE(wait_until([&] { return ctl->calls.load() == 3; }, 3s, 2ms));
  auto t0 = steady::now();
  caf::anon_send(ctl->current(), fake_crash_atom::value);
  int errors = 0;
  for (int i = 0; i < 3; ++i)
    self->receive(
      [&](session_snapshot&) { FAIL("a hung call was answered"); },
      [&](caf::error& err) {
        auto f = to_failure(err);
        CHECK(f.code == errc::cold_unavailable);
        CHECK(f.detail.find("cold worker stopped") != std::string::npos);
        ++errors;
      },
      caf::after(std::chrono::seconds{10}) >> [&] { FAIL("no answer"); });
  CHECK(errors == 3);
  CHECK(steady::now() - t0 < scfg.call_timeout);
  REQUIRE(wait_until(
    [&] {
      auto s = status();
      return s.worker_up && s.worker_restarts == 1;
    },
    3s, 2ms));
  CHECK(ctl->spawned == 2);
  REQUIRE(wait_until([&] { return ctl->inits.load() == 2; }, 3s, 2ms));
  auto s = status();
  CHECK(s.state_name == "half_open");
  CHECK(s.calls_failed == 3);
  CHECK(s.transitions[edge(breaker_state::closed, breaker_state::half_open)]
        == 1);
  // The new worker is probed (3 probes by default); all succeed: closed.
  ctl->mode = fake_mode::succeed;
  for (int i = 0; i < 3; ++i)
    REQUIRE(load());
  s = status();
  CHECK(s.state_name == "closed");
  CHECK(s.transitions[edge(breaker_state::half_open, breaker_state::closed)]
        == 1);
}

TEST_CASE_METHOD(fixture,
                 "calls while the worker restarts are refused at "
                 "once without reaching any worker",
                 "[cold-supervisor][invariant-5]") {
  scfg.restart_backoff_base = 2s;
  scfg.restart_backoff_max = 2s;
  start();
  ctl->mode = fake_mode::crash;
  auto crashed = load();
  REQUIRE_FALSE(crashed);
  CHECK(crashed.error().code == errc::cold_unavailable);
  REQUIRE(ctl->calls == 1);
  ctl->mode = fake_mode::hang; // a forwarded call would time out instead
  auto r = load();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(r.error().detail.find("restarts in") != std::string::npos);
  CHECK(ctl->calls == 1);
  auto s = status();
  CHECK(s.rejected_no_worker == 1);
  CHECK_FALSE(s.worker_up);
  CHECK_FALSE(s.indexes_ok);
}

TEST_CASE_METHOD(fixture,
                 "a worker that keeps crashing is restarted with a "
                 "doubling backoff up to the cap",
                 "[cold-supervisor]") {
  start();
  ctl->mode = fake_mode::crash;
  constexpr int crashes = 7;
  for (int i = 0; i < crashes; ++i) {
    auto r = load();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cold_unavailable);
    REQUIRE(wait_until([&] { return ctl->spawned.load() == i + 2; }, 3s, 2ms));
    REQUIRE(wait_until([&] { return status().worker_up; }, 3s, 2ms));
  }
  CHECK(status().worker_restarts == crashes);
  std::vector<steady::duration> gaps;
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    for (size_t i = 1; i < ctl->spawn_times.size(); ++i)
      gaps.push_back(ctl->spawn_times[i] - ctl->spawn_times[i - 1]);
  }
  REQUIRE(gaps.size() == crashes);
  // Waits are 20, 40, then capped at 40 ms; uncapped, the last would be
  // 20 ms * 2^6 = 1280 ms.
  CHECK(gaps[0] >= 20ms);
  CHECK(gaps[1] >= 40ms);
  CHECK(gaps[2] >= 40ms);
  CHECK(gaps.back() < 1000ms);
}

TEST_CASE_METHOD(fixture,
                 "an open breaker answers at once and never calls "
                 "the worker",
                 "[cold-supervisor][invariant-5]") {
  scfg.breaker.consecutive_failures = 2;
  start();
  ctl->mode = fake_mode::fail;
  REQUIRE_FALSE(load());
  REQUIRE_FALSE(load());
  auto s = status();
  REQUIRE(s.state_name == "open");
  CHECK(s.last_trip == "consecutive_failures");
  CHECK(s.next_probe_ms > 0);
  CHECK(s.next_probe_ms <= 10000);
  CHECK(s.transitions[edge(breaker_state::closed, breaker_state::open)] == 1);
  // A forwarded call would now hang until the timeout; none may be sent.
  ctl->mode = fake_mode::hang;
  for (int i = 0; i < 10; ++i) {
    auto r = load();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cold_unavailable);
    CHECK(r.error().detail.find("circuit open for") == 0);
    auto p = persist(10 + i);
    REQUIRE_FALSE(p);
    CHECK(p.error().code == errc::cold_unavailable);
  }
  CHECK(ctl->calls == 2);
  s = status();
  CHECK(s.rejected_open == 20);
  CHECK(s.in_flight == 0);
}

TEST_CASE_METHOD(fixture,
                 "after the open period the breaker probes: a "
                 "failed probe doubles the period, successes close",
                 "[cold-supervisor]") {
  scfg.breaker.consecutive_failures = 1;
  scfg.breaker.open_base = 200ms;
  scfg.breaker.open_max = 400ms;
  scfg.breaker.jitter_percent = 0;
  scfg.breaker.half_open_probes = 2;
  start();
  ctl->mode = fake_mode::fail;
  REQUIRE_FALSE(load());
  REQUIRE(status().state_name == "open");
  REQUIRE(
    wait_until([&] { return status().state_name == "half_open"; }, 3s, 2ms));
  REQUIRE_FALSE(load()); // the probe fails: open for 2 x 200 ms
  auto s = status();
  REQUIRE(s.state_name == "open");
  CHECK(s.last_trip == "probe_failed");
  CHECK(s.next_probe_ms > 200);
  CHECK(s.next_probe_ms <= 400);
  ctl->mode = fake_mode::succeed;
  REQUIRE(
    wait_until([&] { return status().state_name == "half_open"; }, 3s, 2ms));
  REQUIRE(load());
  CHECK(status().state_name == "half_open");
  REQUIRE(load());
  s = status();
  CHECK(s.state_name == "closed");
  CHECK(s.transitions[edge(breaker_state::closed, breaker_state::open)] == 1);
  CHECK(s.transitions[edge(breaker_state::open, breaker_state::half_open)]
        == 2);
  CHECK(s.transitions[edge(breaker_state::half_open, breaker_state::open)]
        == 1);
  CHECK(s.transitions[edge(breaker_state::half_open, breaker_state::closed)]
        == 1);
}

TEST_CASE_METHOD(fixture,
                 "an operator can force the circuit open, disable "
                 "it, and hand it back",
                 "[cold-supervisor]") {
  scfg.breaker.consecutive_failures = 1;
  start();
  auto forced = call<cold_status>(force_open_atom::value);
  REQUIRE(forced);
  CHECK(forced->state == breaker_state::forced_open);
  auto r = load();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(r.error().detail.find("forced open") != std::string::npos);
  CHECK(ctl->calls == 0);
  auto reset = call<cold_status>(reset_breaker_atom::value);
  REQUIRE(reset);
  CHECK(reset->state_name == "closed");
  REQUIRE(load());
  CHECK(ctl->calls == 1);
  auto disabled = call<cold_status>(disable_breaker_atom::value);
  REQUIRE(disabled);
  CHECK(disabled->state_name == "disabled");
  ctl->mode = fake_mode::fail;
  for (int i = 0; i < 3; ++i) {
    auto f = load();
    REQUIRE_FALSE(f);
    CHECK(f.error().code == errc::cold_error); // forwarded, not rejected
  }
  CHECK(ctl->calls == 4);
  CHECK(status().state_name == "disabled");
  CHECK(call<cold_status>(reset_breaker_atom::value)->state_name == "closed");
  auto s = status();
  CHECK(s.transitions[edge(breaker_state::closed, breaker_state::forced_open)]
        == 1);
  CHECK(s.transitions[edge(breaker_state::disabled, breaker_state::closed)]
        == 1);
}

TEST_CASE_METHOD(fixture,
                 "an index failure is reported in the status and "
                 "retried, not ignored",
                 "[cold-supervisor]") {
  ctl->init_ok = false;
  start();
  REQUIRE(wait_until(
    [&] {
      return status().index_detail.find("ensure indexes") != std::string::npos;
    },
    3s, 2ms));
  CHECK_FALSE(status().indexes_ok);
  ctl->init_ok = true;
  REQUIRE(wait_until([&] { return status().indexes_ok; }, 3s, 2ms));
  CHECK(ctl->inits >= 2);
  CHECK(status().index_detail.empty());
}

TEST_CASE_METHOD(fixture,
                 "an invalid session id is refused without calling "
                 "the worker or counting against the breaker",
                 "[cold-supervisor]") {
  start();
  auto r = call<session_snapshot>(load_atom::value, std::string{"bad{id}"});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::invalid_session_id);
  CHECK(ctl->calls == 0);
  CHECK(status().window_calls == 0);
}

TEST_CASE_METHOD(fixture,
                 "too many calls in flight are refused with "
                 "overloaded",
                 "[cold-supervisor]") {
  scfg.max_in_flight = 2;
  scfg.call_timeout = 5s;
  start();
  ctl->mode = fake_mode::hang;
  caf::scoped_actor self{*sys};
  self->send(cold, load_atom::value, sid);
  self->send(cold, load_atom::value, sid);
  REQUIRE(wait_until([&] { return ctl->calls.load() == 2; }, 3s, 2ms));
  auto r = load();
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::overloaded);
  CHECK(ctl->calls == 2);
  CHECK(status().rejected_overload == 1);
}

TEST_CASE_METHOD(fixture,
                 "stopping the supervisor answers calls in flight "
                 "and stops the worker",
                 "[cold-supervisor]") {
  scfg.call_timeout = 5s;
  start();
  ctl->mode = fake_mode::hang;
  caf::scoped_actor self{*sys};
  self->monitor(ctl->current());
  self->send(cold, load_atom::value, sid);
  REQUIRE(wait_until([&] { return ctl->calls.load() == 1; }, 3s, 2ms));
  caf::anon_send_exit(cold, caf::exit_reason::user_shutdown);
  bool answered = false;
  bool worker_down = false;
  for (int i = 0; i < 2; ++i)
    self->receive(
      [&](caf::error& err) {
        CHECK(to_failure(err).code == errc::shutting_down);
        answered = true;
      },
      [&](caf::down_msg&) { worker_down = true; },
      caf::after(std::chrono::seconds{10}) >> [&] { FAIL("no answer"); });
  CHECK(answered);
  CHECK(worker_down);
}

TEST_CASE_METHOD(fixture,
                 "a cold status survives the binary serializer, "
                 "the path a remote health check takes",
                 "[cold-supervisor][serialization]") {
  scfg.breaker.consecutive_failures = 1;
  start();
  ctl->mode = fake_mode::fail;
  REQUIRE_FALSE(load());
  auto before = status();
  REQUIRE(before.state_name == "open");
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  auto msg = caf::make_message(before);
  REQUIRE_FALSE(sink(msg));
  caf::message out;
  caf::binary_deserializer source{*sys, buf};
  REQUIRE_FALSE(source(out));
  REQUIRE(out.match_elements<cold_status>());
  const auto& after = out.get_as<cold_status>(0);
  CHECK(after.state == before.state);
  CHECK(after.state_name == before.state_name);
  CHECK(after.last_trip == before.last_trip);
  CHECK(after.next_probe_ms == before.next_probe_ms);
  CHECK(after.transitions == before.transitions);
  CHECK(after.calls_failed == before.calls_failed);
  CHECK(after.worker_up == before.worker_up);
  CHECK(after.index_detail == before.index_detail);
}

TEST_CASE_METHOD(fixture,
                 "issue #15 - the supervisor publishes what its breaker "
                 "refuses: everything while open, its probes once due, "
                 "nothing once closed",
                 "[cold-supervisor][invariant-5]") {
  cold_gate gate;
  scfg.gate = &gate;
  scfg.call_timeout = 2s; // a hung probe stays in flight that long
  scfg.breaker.consecutive_failures = 1;
  scfg.breaker.open_base = 200ms;
  scfg.breaker.jitter_percent = 0;
  scfg.breaker.half_open_probes = 1;
  start();
  CHECK(gate.admits(steady::now()) == cold_gate::unlimited);
  ctl->mode = fake_mode::fail;
  REQUIRE_FALSE(persist(1)); // trips
  REQUIRE(status().state_name == "open");
  CHECK(gate.refuses(steady::now()));
  CHECK(gate.admits(steady::now()) == 0);
  // Refused at once while open: nothing reached the worker.
  auto calls = ctl->calls.load();
  CHECK(persist(2).error().code == errc::cold_unavailable);
  CHECK(ctl->calls == calls);
  // The probe is due: the gate says so before anyone asks the supervisor.
  REQUIRE(wait_until([&] { return !gate.refuses(steady::now()); }, 3s, 2ms));
  CHECK(gate.admits(steady::now()) == 1);
  // A probe in flight takes the only slot: refused again until it settles.
  ctl->mode = fake_mode::hang;
  caf::scoped_actor self{*sys};
  self->send(cold, persist_atom::value,
             persist_request{sid, 3, {{"c:me", false, "1"}}});
  REQUIRE(wait_until([&] { return ctl->calls.load() > calls; }, 3s, 2ms));
  CHECK(gate.refuses(steady::now()));
  // It times out: a failed probe, open again, refused for the period.
  REQUIRE(wait_until([&] { return status().state_name == "open"; }, 5s, 5ms));
  CHECK(gate.refuses(steady::now()));
  // The next probe succeeds: closed, no limit.
  ctl->mode = fake_mode::succeed;
  REQUIRE(wait_until([&] { return !gate.refuses(steady::now()); }, 3s, 2ms));
  REQUIRE(persist(4));
  CHECK(status().state_name == "closed");
  CHECK(gate.admits(steady::now()) == cold_gate::unlimited);
  // Operator overrides are published too.
  REQUIRE(call<cold_status>(force_open_atom::value));
  CHECK(gate.refuses(steady::now() + 24h));
  REQUIRE(call<cold_status>(reset_breaker_atom::value));
  CHECK_FALSE(gate.refuses(steady::now()));
}

} // namespace cold_supervisor_actortest
