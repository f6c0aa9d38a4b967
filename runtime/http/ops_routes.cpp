// ops_routes.cpp -- /healthz, /readyz and /metrics, answered by a bridge
// actor without blocking (api_bridge.hpp).
//
// Liveness: the router answers a stats query within 1 s. Readiness: every
// Redis connection answers PING within its command timeout (without Redis
// no write can be acknowledged); the cold store's breaker is reported but
// does not make the node unready (writes continue while it is down).
// Bodies are JSON listing each component. /metrics renders the engine's
// counters with the cold supervisor's status at scrape time (as
// engine::metrics_text, but asking the supervisor with request/then).
#include "runtime/http/api_bridge_impl.hpp"

#include <caf/all.hpp>

#include "messages/codec.hpp"
#include "runtime/engine/metrics.hpp"
#include "runtime/http/api_errors.hpp"

namespace authstore {

namespace {

/// How long liveness and the cold status may take (a scheduler that cannot
/// answer a stats query in 1 s is not alive in any useful sense).
constexpr std::chrono::seconds probe_timeout{1};

http_reply json_status(bool ok, int bad_status, const json& body) {
  http_reply r;
  r.status = ok ? 200 : bad_status;
  r.body = body.dump() + "\n";
  return r;
}

/// The membership's part of /healthz (issue #19): shown, not required (a
/// node that cannot heartbeat still serves; its sessions' leases say who
/// owns what).
json cluster_component(const cluster_view* v) {
  if (!v)
    return {{"state", "unresponsive"}};
  json members = json::array();
  for (const auto& m : v->members)
    members.push_back({{"node_id", m.node_id},
                       {"address", m.address},
                       {"expires_in_ms", m.expires_in_ms}});
  json c = {{"state", v->state}, {"node_id", v->node_id}, {"members", members}};
  if (!v->problem.empty())
    c["problem"] = v->problem;
  return c;
}

/// Calls `render` with the registrar's view (null when it did not answer
/// within probe_timeout); not at all without cluster.enabled.
template <class Render>
void with_cluster_view(caf::event_based_actor* self, const bridge_config& cfg,
                       json body, Render render) {
  if (!cfg.registrar)
    return render(std::move(body));
  self->request(cfg.registrar, probe_timeout, members_atom::value)
    .then(
      [body, render](const cluster_view& v) mutable {
        body["components"]["cluster"] = cluster_component(&v);
        render(std::move(body));
      },
      [body, render](caf::error&) mutable {
        body["components"]["cluster"] = cluster_component(nullptr);
        render(std::move(body));
      });
}

void liveness(caf::event_based_actor* self, const bridge_config& cfg,
              reply_fn done) {
  self->request(cfg.router, probe_timeout, stats_atom::value)
    .then(
      [self, cfg, done](const router_stats& s) {
        json body;
        body["components"]["actor_system"]
          = {{"state", "ok"}, {"live_sessions", s.live_sessions}};
        body["status"] = "ok";
        with_cluster_view(self, cfg, std::move(body),
                          [done](json b) { done(json_status(true, 503, b)); });
      },
      [done](caf::error& err) {
        json body;
        body["components"]["actor_system"]
          = {{"state", "unresponsive"},
             {"error", std::string{to_string(to_failure(err).code)}}};
        body["status"] = "failing";
        done(json_status(false, 503, body));
      });
}

/// Readiness in progress: one entry per Redis connection.
struct readiness_state {
  std::vector<std::string> connections;
  size_t up = 0;
  size_t answered = 0;
};

/// The cold store's part of /readyz (reported, not required).
json cold_component(const cold_status* cs, bool configured) {
  if (!configured)
    return {{"state", "not_configured"}};
  if (!cs)
    return {{"state", "unresponsive"}};
  return {{"state", cs->state_name},
          {"next_probe_ms", cs->next_probe_ms},
          {"last_trip", cs->last_trip},
          {"worker_up", cs->worker_up},
          {"indexes_ok", cs->indexes_ok}};
}

/// Calls `render` with the cold supervisor's status (null without a cold
/// store, or when it did not answer within probe_timeout).
template <class Render>
void with_cold_status(caf::event_based_actor* self, const bridge_config& cfg,
                      Render render) {
  if (!cfg.cold) {
    render(nullptr);
    return;
  }
  self->request(cfg.cold, probe_timeout, cold_status_atom::value)
    .then([render](const cold_status& cs) { render(&cs); },
          [render](caf::error&) { render(nullptr); });
}

void finish_readiness(caf::event_based_actor* self, const bridge_config& cfg,
                      std::shared_ptr<readiness_state> st, reply_fn done) {
  auto render
    = [st, done, n = cfg.redis_pool.size(),
       configured = static_cast<bool>(cfg.cold)](const cold_status* cs) {
        bool ready = n > 0 && st->up == n;
        json body;
        body["components"]["redis"] = {{"state", ready ? "ok" : "unavailable"},
                                       {"connections", st->connections}};
        body["components"]["cold_store"] = cold_component(cs, configured);
        body["status"] = ready ? "ready" : "not_ready";
        done(json_status(ready, 503, body));
      };
  with_cold_status(self, cfg, render);
}

void readiness(caf::event_based_actor* self, const bridge_config& cfg,
               reply_fn done) {
  auto st = std::make_shared<readiness_state>();
  auto n = cfg.redis_pool.size();
  st->connections.resize(n);
  if (n == 0) {
    finish_readiness(self, cfg, st, std::move(done));
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    redis_request ping{redis_script::none, 0, {"PING"}};
    auto answered = [self, cfg, st, done, i, n](std::string state, bool up) {
      st->connections[i] = std::move(state);
      st->up += up ? 1 : 0;
      if (++st->answered == n)
        finish_readiness(self, cfg, st, done);
    };
    self->request(cfg.redis_pool[i], cfg.ping_timeout, redis_atom::value, ping)
      .then(
        [answered](const redis_reply& reply) {
          bool pong = reply.str == "PONG";
          answered(pong ? "ok" : "unexpected reply", pong);
        },
        [answered](caf::error& err) {
          answered(std::string{to_string(to_failure(err).code)}, false);
        });
  }
}

void metrics(caf::event_based_actor* self, const bridge_config& cfg,
             reply_fn done) {
  auto render = [counters = cfg.counters, done](const cold_status* cs) {
    http_reply r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = render_metrics(*counters, cs);
    done(std::move(r));
  };
  with_cold_status(self, cfg, render);
}

} // namespace

void answer_ops(caf::event_based_actor* self, const bridge_config& cfg,
                api_route route, reply_fn done) {
  switch (route) {
    case api_route::healthz:
      liveness(self, cfg, std::move(done));
      return;
    case api_route::readyz:
      readiness(self, cfg, std::move(done));
      return;
    case api_route::metrics:
      metrics(self, cfg, std::move(done));
      return;
    default:
      done(to_reply(http_error(500, "internal", "not an ops route")));
      return;
  }
}

} // namespace authstore
