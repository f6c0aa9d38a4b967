// engine_actors.cpp -- actor-level access to a running engine
// (engine_actors.hpp).
#include "runtime/engine/engine_actors.hpp"

#include <caf/all.hpp>

#include "runtime/engine/engine_impl.hpp"

namespace authstore {

bool query_cold_status(engine::impl& x, cold_status& out) {
  if (!x.cold)
    return false;
  bool ok = false;
  caf::scoped_actor self{x.sys};
  self->request(x.cold, std::chrono::seconds{1}, cold_status_atom::value)
    .receive(
      [&](cold_status& s) {
        out = std::move(s);
        ok = true;
      },
      [](caf::error&) {});
  return ok;
}

bool engine_cold_status(engine& e, cold_status& out) {
  return query_cold_status(e.internals(), out);
}

const std::vector<redis_actor>& engine_redis_pool(engine& e) {
  return e.internals().redis_pool;
}

caf::actor_system& engine_system(engine& e) {
  return e.internals().sys;
}

router_actor engine_router(engine& e) {
  return e.internals().router;
}

cold_actor engine_cold(engine& e) {
  return e.internals().cold;
}

void engine_forward_through(engine& e, peer_connector_actor connector) {
  caf::anon_send(e.internals().router, peer_atom::value, std::move(connector));
}

registrar_actor engine_registrar(engine& e) {
  return e.internals().registrar;
}

const engine_counters& engine_counts(engine& e) {
  return *e.internals().counters;
}

api_counters& engine_api_counters(engine& e) {
  return e.internals().counters->api;
}

security_counters& engine_security_counters(engine& e) {
  return e.internals().counters->security;
}

outcome<redis_layout::outbox_figures> engine_outbox_backlog(engine& e) {
  auto& x = e.internals();
  if (!x.reconciler_redis)
    return failure{errc::no_cold_store, "no outbox reconciler running"};
  outcome<redis_layout::outbox_figures> result{errc::internal, "no reply"};
  caf::scoped_actor self{x.sys};
  self
    ->request(x.reconciler_redis, x.call_timeout, redis_atom::value,
              redis_layout::outbox_stats())
    .receive(
      [&](redis_reply& r) {
        result = redis_layout::parse_outbox_stats(r, redis_layout::wall_ms());
      },
      [&](caf::error& err) { result = to_failure(err); });
  return result;
}

redis_pool_counters engine_redis_counters(engine& e) {
  // The Redis actors count into the engine's counters after every flush
  // (the same numbers /metrics serves); no need to ask each actor.
  const auto& r = e.internals().counters->redis;
  return {r.round_trips.load(std::memory_order_relaxed),
          r.commands.load(std::memory_order_relaxed)};
}

} // namespace authstore
