// api_bridge.cpp -- the bridge actors (api_bridge.hpp): one table from
// route to engine request.
#include "runtime/http/api_bridge.hpp"

#include <algorithm>
#include <atomic>
#include <deque>
#include <memory>

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

using clock = std::chrono::steady_clock;

/// A request waiting on the engine: answered exactly once, by its reply or
/// by the sweep (`done` is empty afterwards).
struct waiting_call {
  reply_fn done;
  bool write = false;
};

struct deadline_entry {
  clock::time_point deadline;
  std::shared_ptr<waiting_call> call;
};

/// Why a sweep instead of a CAF request timeout (issue #18, HOPS.md):
/// CAF 0.17.6 puts every request timeout into its clock thread's queue,
/// which wakes that thread once per request (a third runnable thread per
/// HTTP request on 2 cores) and never cancels it. Each bound has its own
/// queue, in send order and so in deadline order; one `tick` at the
/// earliest front deadline answers every call past its bound with the same
/// timeout a CAF request timeout gave, and a reply arriving later is
/// dropped.
struct bridge_state {
  bridge_config cfg;
  std::deque<deadline_entry> calls;       // bound cfg.timeout
  std::deque<deadline_entry> batch_calls; // bound cfg.batch_timeout
  bool tick_scheduled = false;
  static inline const char* name = "authstore.api_bridge";
};

using bridge_pointer = caf::stateful_actor<bridge_state>*;

/// Drops answered calls from the fronts (replies mostly come in order, so
/// the queues hold about what is in flight).
void trim(std::deque<deadline_entry>& q) {
  while (!q.empty() && !q.front().call->done)
    q.pop_front();
}

void arm_sweep(bridge_pointer self) {
  auto& st = self->state;
  if (st.tick_scheduled || (st.calls.empty() && st.batch_calls.empty()))
    return;
  auto at = clock::time_point::max();
  if (!st.calls.empty())
    at = st.calls.front().deadline;
  if (!st.batch_calls.empty())
    at = std::min(at, st.batch_calls.front().deadline);
  st.tick_scheduled = true;
  self->delayed_send(self, std::max(at - clock::now(), clock::duration::zero()),
                     tick_atom::value);
}

void answer(waiting_call& call, http_reply reply) {
  if (!call.done)
    return; // the sweep answered first; this late reply is dropped
  auto done = std::move(call.done);
  call.done = nullptr;
  done(std::move(reply));
}

/// Answers every call past its bound with `timeout`, then re-arms.
void sweep(bridge_pointer self) {
  auto& st = self->state;
  st.tick_scheduled = false;
  auto now = clock::now();
  auto timeout = to_failure(caf::make_error(caf::sec::request_timeout));
  for (auto* q : {&st.calls, &st.batch_calls}) {
    while (!q->empty() && q->front().deadline <= now) {
      auto call = std::move(q->front().call);
      q->pop_front();
      answer(*call, to_reply(from_failure(timeout, call->write)));
    }
    trim(*q);
  }
  arm_sweep(self);
}

/// Sends one request to the router and answers `done` with `render(reply)`
/// or with the error (is_write: an unknown outcome may have applied), or
/// with a timeout once `bound` passed (the sweep).
template <class T, class Render, class... Ts>
void ask(bridge_pointer self, std::chrono::milliseconds bound, bool write,
         reply_fn done, Render render, Ts&&... xs) {
  auto& st = self->state;
  auto call = std::make_shared<waiting_call>();
  call->done = std::move(done);
  call->write = write;
  auto& q = bound == st.cfg.batch_timeout ? st.batch_calls : st.calls;
  q.push_back({clock::now() + bound, call});
  arm_sweep(self);
  self->request(st.cfg.router, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [call, render, &q](T& x) {
        answer(*call, render(x));
        trim(q);
      },
      [call, &q](caf::error& err) {
        answer(*call, to_reply(from_failure(to_failure(err), call->write)));
        trim(q);
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

void run(bridge_pointer self, api_job job) {
  const auto& cfg = self->state.cfg;
  auto& c = job.call;
  auto done = std::move(job.done);
  auto t = cfg.timeout;
  switch (c.route) {
    case api_route::get_creds:
      ask<creds_reply>(self, t, false, done, creds_reply_of,
                       get_creds_atom::value, std::move(c.sid));
      return;
    case api_route::read_keys:
      with_body(parse_string_list(c.body, "ids", cfg.limits), done,
                [&](std::vector<std::string> ids) {
                  ask<keys_reply>(self, t, false, done, keys_reply_of,
                                  get_keys_atom::value, std::move(c.sid),
                                  std::move(c.type), std::move(ids));
                });
      return;
    case api_route::write:
      with_body(parse_write_body(c.body, cfg.limits), done, [&](patch p) {
        ask<uint64_t>(self, t, true, done, version_reply_of, set_atom::value,
                      std::move(c.sid), std::move(p));
      });
      return;
    case api_route::delete_session:
      with_body(parse_delete_body(c.body), done, [&](lease_token lease) {
        ask<delete_reply>(self, t, true, done, delete_reply_of, del_atom::value,
                          std::move(c.sid), std::move(lease));
      });
      return;
    case api_route::list_keys:
      ask<key_ids_reply>(self, t, false, done, key_ids_reply_of,
                         list_keys_atom::value, std::move(c.sid),
                         std::move(c.type));
      return;
    case api_route::take_lease:
      with_body(parse_lease_body(c.body), done, [&](lease_request req) {
        ask<lease_reply>(self, t, true, done, lease_reply_of, lease_atom::value,
                         std::move(c.sid), std::move(req));
      });
      return;
    case api_route::release_lease:
      with_body(parse_release_body(c.body), done, [&](std::string holder) {
        ask<bool>(
          self, t, true, done,
          [](bool x) { return flag_reply_of("released", x); },
          release_atom::value, std::move(c.sid), std::move(holder));
      });
      return;
    case api_route::exists:
      ask<bool>(
        self, t, false, done, [](bool x) { return flag_reply_of("exists", x); },
        exists_atom::value, std::move(c.sid));
      return;
    case api_route::touch:
      ask<bool>(
        self, t, true, done, [](bool x) { return flag_reply_of("exists", x); },
        touch_atom::value, std::move(c.sid));
      return;
    case api_route::batch_creds:
      with_body(parse_string_list(c.body, "sessions", cfg.limits), done,
                [&](std::vector<std::string> ids) {
                  ask<std::vector<session_result>>(
                    self, cfg.batch_timeout, false, done,
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

caf::behavior bridge_actor(bridge_pointer self, bridge_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [self](api_job& job) { run(self, std::move(job)); },
    [self](tick_atom) { sweep(self); },
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
