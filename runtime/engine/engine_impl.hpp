// engine_impl.hpp -- the engine's state, shared by engine.cpp (wiring and
// the blocking calls) and engine_actors.cpp (actor-level access). Private
// to runtime/engine/: nothing outside this folder includes it.
//
// Lifetime: members are destroyed in reverse order of declaration, so the
// counters outlive the actor system (actors count into them until they
// quit) and ~actor_system (which waits for every actor) runs before them.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/cold_supervisor.hpp"
#include "messages/cold_gate.hpp"
#include "messages/cold_store.hpp"
#include "messages/interfaces.hpp"
#include "messages/patch_json.hpp"
#include "observe/engine_counters.hpp"
#include "runtime/engine/engine_actors.hpp"
#include "runtime/node/config.hpp"

namespace authstore {

/// The CAF configuration of an engine, set from code only: parse() is
/// never called, so a stray caf-application.ini in the working directory
/// changes nothing. Middleman, TLS and scheduler come from
/// runtime/node/node_settings.hpp.
struct engine_system_config : caf::actor_system_config {
  explicit engine_system_config(const settings& cfg);
};

struct engine::impl {
  impl(const settings& s, std::unique_ptr<engine_counters> c)
      : counters(std::move(c)), cfg(s), sys_cfg(s), sys(sys_cfg) {}
  /// Declared first: outlives the actor system and the actors (and cold
  /// stores) counting in it.
  std::unique_ptr<engine_counters> counters;
  /// The cold supervisor's published breaker, read by the session actors
  /// and the reconciler before a persist round (messages/cold_gate.hpp);
  /// outlives the actors like the counters.
  cold_gate gate;
  settings cfg;
  engine_system_config sys_cfg;
  caf::actor_system sys;
  std::vector<redis_actor> redis_pool;
  cold_actor cold;
  /// The outbox reconciler and its own Redis connection (with a cold store
  /// and outbox.reconcile only).
  reconciler_actor reconciler;
  redis_actor reconciler_redis;
  engine_router_actor router;
  /// The cluster registrar (cluster.enabled only).
  registrar_actor registrar;
  /// The rekey sweep and its own Redis connection (crypto.rekey-sweep).
  rekey_sweeper_actor sweeper;
  redis_actor sweeper_redis;
  patch_limits limits;
  std::chrono::milliseconds call_timeout{0};

  /// One blocking request to the router, bounded by call_timeout.
  template <class T, class... Ts>
  outcome<T> call(Ts&&... xs) {
    outcome<T> result{errc::internal, "no reply"};
    caf::scoped_actor self{sys};
    self->request(router, call_timeout, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = to_failure(err); });
    return result;
  }
};

/// The cold supervisor's status, or false when there is none or it did not
/// answer within 1 s.
bool query_cold_status(engine::impl& x, cold_status& out);

/// The configured cold store's opener (its store's configuration checked
/// here: open() only parses), counting into `counters`; `backend` receives
/// the store's backend(). no_cold_store without cold.uri (cold_config.cpp).
outcome<cold_store_opener> make_cold_opener(const settings& cfg,
                                            cold_store_counters* counters,
                                            std::string* backend = nullptr);

/// The cold supervisor's settings from the table, with its worker factory
/// (one worker, or a pool of cold.workers); the breaker's bounds checked.
outcome<cold_supervisor_config> make_cold_config(const settings& cfg,
                                                 cold_store_counters* counters);

} // namespace authstore
