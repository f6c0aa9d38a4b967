// api_bridge.cpp -- the bridge actors (api_bridge.hpp): one table from
// route to engine request.
#include "runtime/http/api_bridge.hpp"

#include <atomic>

#include <caf/all.hpp>

#include "actors/session_router.hpp"
#include "messages/timing.hpp"
#include "runtime/engine/engine_actors.hpp"
#include "runtime/http/api_bodies.hpp"
#include "runtime/http/api_bridge_impl.hpp"
#include "runtime/http/api_routes.hpp"

namespace authstore {

/// One request handed to a bridge actor.
struct api_job {
  api_call call;
  reply_fn done;
};

} // namespace authstore

// Carries a callback: local messages only, never remote.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(authstore::api_job)

namespace authstore {

namespace {

/// Sends one request to the router and answers `done` with `render(reply)`
/// or with the error (is_write: an unknown outcome may have applied).
template <class T, class Render, class... Ts>
void ask(caf::event_based_actor* self, const bridge_config& cfg,
         std::chrono::milliseconds bound, bool write, reply_fn done,
         Render render, Ts&&... xs) {
  self->request(cfg.router, bound, std::forward<Ts>(xs)...)
    .then([done, render](T& x) { done(render(x)); },
          [done, write](caf::error& err) {
            done(to_reply(from_failure(to_failure(err), write)));
          });
}

/// Calls `then` with the parsed body, or answers the parse error.
template <class T, class F>
void with_body(api_parsed<T> parsed, const reply_fn& done, F then) {
  if (auto* e = std::get_if<api_error>(&parsed))
    done(to_reply(*e));
  else
    then(std::move(std::get<T>(parsed)));
}

void run(caf::event_based_actor* self, const bridge_config& cfg, api_job job) {
  auto& c = job.call;
  auto done = std::move(job.done);
  auto t = cfg.timeout;
  switch (c.route) {
    case api_route::get_creds:
      ask<creds_reply>(self, cfg, t, false, done, creds_reply_of,
                       get_creds_atom::value, std::move(c.sid));
      return;
    case api_route::read_keys:
      with_body(parse_string_list(c.body, "ids", cfg.limits), done,
                [&](std::vector<std::string> ids) {
                  ask<keys_reply>(self, cfg, t, false, done, keys_reply_of,
                                  get_keys_atom::value, std::move(c.sid),
                                  std::move(c.type), std::move(ids));
                });
      return;
    case api_route::write:
      with_body(parse_write_body(c.body, cfg.limits), done, [&](patch p) {
        ask<uint64_t>(self, cfg, t, true, done, version_reply_of,
                      set_atom::value, std::move(c.sid), std::move(p));
      });
      return;
    case api_route::delete_session:
      with_body(parse_delete_body(c.body), done, [&](lease_token lease) {
        ask<delete_reply>(self, cfg, t, true, done, delete_reply_of,
                          del_atom::value, std::move(c.sid), std::move(lease));
      });
      return;
    case api_route::list_keys:
      ask<key_ids_reply>(self, cfg, t, false, done, key_ids_reply_of,
                         list_keys_atom::value, std::move(c.sid),
                         std::move(c.type));
      return;
    case api_route::take_lease:
      with_body(parse_lease_body(c.body), done, [&](lease_request req) {
        ask<lease_reply>(self, cfg, t, true, done, lease_reply_of,
                         lease_atom::value, std::move(c.sid), std::move(req));
      });
      return;
    case api_route::release_lease:
      with_body(parse_release_body(c.body), done, [&](std::string holder) {
        ask<bool>(
          self, cfg, t, true, done,
          [](bool x) { return flag_reply_of("released", x); },
          release_atom::value, std::move(c.sid), std::move(holder));
      });
      return;
    case api_route::exists:
      ask<bool>(
        self, cfg, t, false, done,
        [](bool x) { return flag_reply_of("exists", x); }, exists_atom::value,
        std::move(c.sid));
      return;
    case api_route::touch:
      ask<bool>(
        self, cfg, t, true, done,
        [](bool x) { return flag_reply_of("exists", x); }, touch_atom::value,
        std::move(c.sid));
      return;
    case api_route::batch_creds:
      with_body(parse_string_list(c.body, "sessions", cfg.limits), done,
                [&](std::vector<std::string> ids) {
                  ask<std::vector<session_result>>(
                    self, cfg, cfg.batch_timeout, false, done,
                    [](const std::vector<session_result>& rs) {
                      return batch_reply_of(rs);
                    },
                    mget_atom::value, std::move(ids));
                });
      return;
    case api_route::healthz:
    case api_route::readyz:
    case api_route::metrics:
      answer_ops(self, cfg, c.route, std::move(done));
      return;
    default:
      // health and unknown routes are answered before the bridge
      // (api_service.cpp).
      done(to_reply(http_error(500, "internal", "route not bridged")));
      return;
  }
}

caf::behavior bridge_actor(caf::event_based_actor* self, bridge_config cfg) {
  return {
    [self, cfg](api_job& job) { run(self, cfg, std::move(job)); },
  };
}

} // namespace

struct api_bridge::impl {
  std::vector<caf::actor> actors;
  std::atomic<size_t> next{0};
  bool stopped = false;
};

api_bridge::api_bridge(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

std::shared_ptr<api_bridge> api_bridge::start(engine& e, size_t actors) {
  bridge_config cfg;
  cfg.router = engine_router(e);
  cfg.redis_pool = engine_redis_pool(e);
  cfg.cold = engine_cold(e);
  cfg.registrar = engine_registrar(e);
  cfg.counters = &engine_counts(e);
  cfg.limits = e.limits();
  const auto& s = e.config();
  cfg.timeout = s.session_request_timeout_ms() + reply_margin;
  cfg.batch_timeout = session_router_config{}.batch_timeout + reply_margin;
  cfg.ping_timeout
    = s.redis_command_timeout_ms() + std::chrono::milliseconds{500};
  auto x = std::make_unique<impl>();
  for (size_t i = 0; i < std::max<size_t>(actors, 1); ++i)
    x->actors.push_back(engine_system(e).spawn(bridge_actor, cfg));
  return std::shared_ptr<api_bridge>{new api_bridge(std::move(x))};
}

api_bridge::~api_bridge() {
  stop();
}

void api_bridge::submit(api_call call, std::function<void(http_reply)> done) {
  auto& x = *impl_;
  // One session's requests go through one actor, so they reach the router
  // in the order the HTTP thread read them (a pipelined client's writes
  // with expected_version 0, 1, 2... stay in that order); the rest round
  // robin.
  auto i = call.sid.empty()
             ? x.next.fetch_add(1, std::memory_order_relaxed) % x.actors.size()
             : std::hash<std::string>{}(call.sid) % x.actors.size();
  caf::anon_send(x.actors[i], api_job{std::move(call), std::move(done)});
}

void api_bridge::stop() {
  auto& x = *impl_;
  if (x.stopped)
    return;
  x.stopped = true;
  for (auto& a : x.actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

} // namespace authstore
