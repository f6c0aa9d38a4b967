// health.cpp -- see health.hpp.
#include "runtime/http/health.hpp"

#include <caf/all.hpp>

#include "messages/codec.hpp"
#include "runtime/engine/engine_actors.hpp"

namespace authstore {

http_response liveness(engine& e) {
  auto& sys = engine_system(e);
  auto router = engine_router(e);
  json body;
  bool ok = false;
  {
    caf::scoped_actor self{sys};
    self->request(router, std::chrono::seconds{1}, stats_atom::value)
      .receive(
        [&](const router_stats& s) {
          ok = true;
          body["components"]["actor_system"]
            = {{"state", "ok"}, {"live_sessions", s.live_sessions}};
        },
        [&](caf::error& err) {
          body["components"]["actor_system"]
            = {{"state", "unresponsive"},
               {"error", std::string{to_string(to_failure(err).code)}}};
        });
  }
  body["status"] = ok ? "ok" : "failing";
  return {ok ? 200 : 503, "application/json", body.dump() + "\n"};
}

http_response readiness(engine& e) {
  auto& sys = engine_system(e);
  const auto& pool = engine_redis_pool(e);
  const auto& cfg = e.config();
  auto cold = engine_cold(e);
  json body;
  // The connection's own bound plus half a second for the hop back.
  auto timeout
    = cfg.redis_command_timeout_ms() + std::chrono::milliseconds{500};
  size_t up = 0;
  json conns = json::array();
  {
    caf::scoped_actor self{sys};
    for (const auto& r : pool) {
      redis_request ping{redis_script::none, 0, {"PING"}};
      self->request(r, timeout, redis_atom::value, ping)
        .receive(
          [&](const redis_reply& reply) {
            bool pong = reply.str == "PONG";
            up += pong ? 1 : 0;
            conns.push_back(pong ? "ok" : "unexpected reply");
          },
          [&](caf::error& err) {
            conns.push_back(std::string{to_string(to_failure(err).code)});
          });
    }
  }
  bool ready = up == pool.size() && !pool.empty();
  body["components"]["redis"]
    = {{"state", ready ? "ok" : "unavailable"}, {"connections", conns}};
  // Reported, not required: with the cold store down writes continue.
  cold_status cs;
  if (!cold)
    body["components"]["cold_store"] = {{"state", "not_configured"}};
  else if (!engine_cold_status(e, cs))
    body["components"]["cold_store"] = {{"state", "unresponsive"}};
  else
    body["components"]["cold_store"] = {{"state", cs.state_name},
                                        {"next_probe_ms", cs.next_probe_ms},
                                        {"last_trip", cs.last_trip},
                                        {"worker_up", cs.worker_up},
                                        {"indexes_ok", cs.indexes_ok}};
  body["status"] = ready ? "ready" : "not_ready";
  return {ready ? 200 : 503, "application/json", body.dump() + "\n"};
}

} // namespace authstore
