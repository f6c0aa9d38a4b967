// cold_supervisor_harness.hpp -- an actor system with one cold supervisor
// under test, and blocking calls to it. Shared by the supervisor's tests
// with the fake worker (tests/actor/cold_supervisor_actortest.cpp) and with
// a real cold worker around a mongo_store on a scripted wire server
// (tests/mongowire/cold_worker_mongowiretest.cpp); each fixture sets
// `scfg` (timeouts, the worker factory) and spawns with start_supervisor().
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "actors/cold_supervisor.hpp"

namespace authstore::test {

struct cold_supervisor_harness {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  cold_supervisor_config scfg;
  cold_actor cold;
  /// The session every call names.
  std::string sid = "s1";
  /// Bound on one blocking call (longer than any timeout under test).
  std::chrono::milliseconds call_limit;

  /// Two scheduler threads, as the engine runs them.
  explicit cold_supervisor_harness(std::chrono::milliseconds limit)
      : call_limit(limit) {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    cfg.set("work-stealing.moderate-sleep-duration", caf::timespan{0});
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// Stops the supervisor, then waits for every actor (the system's
  /// destructor); a derived fixture drops its own handles first.
  ~cold_supervisor_harness() {
    if (cold)
      caf::anon_send_exit(cold, caf::exit_reason::user_shutdown);
    cold = nullptr;
    sys.reset();
  }

  cold_supervisor_harness(const cold_supervisor_harness&) = delete;
  cold_supervisor_harness& operator=(const cold_supervisor_harness&) = delete;

  void start_supervisor() { cold = spawn_cold_supervisor(*sys, scfg); }

  /// One request to the supervisor; its reply or its error.
  template <class T, class... Ts>
  outcome<T> call(Ts&&... xs) {
    outcome<T> result{errc::internal, "no reply"};
    caf::scoped_actor self{*sys};
    self->request(cold, call_limit, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = to_failure(err); });
    return result;
  }

  outcome<session_snapshot> load() {
    return call<session_snapshot>(load_atom::value, sid);
  }

  /// A one-field persist of `sid` at `version`.
  outcome<uint64_t> persist(uint64_t version) {
    return call<uint64_t>(
      persist_atom::value,
      persist_request{sid, version, {{"c:me", false, "1"}}});
  }

  /// The supervisor's status; REQUIREs an answer.
  cold_status status() {
    auto s = call<cold_status>(cold_status_atom::value);
    REQUIRE(s);
    return *s;
  }
};

} // namespace authstore::test
