// engine.cpp -- wiring: spawns the actor graph in dependency order and stops
// it in reverse (engine.hpp).
//
//   redis pool (detached, one per connection)
//     <- session router (scheduled) <- session actors (spawned on demand)
//
// The CAF configuration is set from code only: parse() is never called, so
// a stray caf-application.ini in the working directory changes nothing.
// Scheduler: max-threads from the config (default 2) and
// work-stealing.moderate-sleep-duration=0, the measured best on 2 cores
// (CAF-0.17-GUIDE §7: 5-6x lower thread-hop latency, less idle CPU).
#include "runtime/engine_actors.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/redis_actor.hpp"
#include "actors/session_router.hpp"

namespace authstore {

namespace {

struct engine_system_config : caf::actor_system_config {
  explicit engine_system_config(const settings& cfg) {
    load<caf::io::middleman>();
    register_messages(*this);
    set("scheduler.max-threads",
        static_cast<size_t>(cfg.integer("scheduler.max-threads")));
    set("work-stealing.moderate-sleep-duration",
        caf::timespan{std::chrono::microseconds{
          cfg.integer("scheduler.moderate-sleep-us")}});
  }
};

using std::chrono::milliseconds;
using std::chrono::seconds;

} // namespace

struct engine::impl {
  explicit impl(const settings& s) : cfg(s), sys_cfg(s), sys(sys_cfg) {}
  settings cfg;
  engine_system_config sys_cfg;
  caf::actor_system sys;
  std::vector<redis_actor> redis_pool;
  router_actor router;
  patch_limits limits;
  milliseconds call_timeout{0};

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

engine::engine(std::unique_ptr<impl> x) : impl_(std::move(x)) {
}

outcome<std::unique_ptr<engine>> engine::start(const settings& cfg) {
  auto url = parse_redis_url(cfg.text("redis.url"));
  if (!url)
    return url.error();
  auto x = std::make_unique<impl>(cfg);
  // Limits: the codec's per-value bounds and the patch bounds.
  x->limits.value.max_value_bytes = cfg.integer("codec.max-value-bytes");
  x->limits.value.max_depth = cfg.integer("codec.max-depth");
  x->limits.value.max_fields = cfg.integer("codec.max-fields");
  x->limits.max_patch_bytes = cfg.integer("codec.max-patch-bytes");
  x->limits.max_writes = cfg.integer("codec.max-writes");
  // 1. Redis pool.
  redis_actor_config rc;
  rc.connection.endpoint = *url;
  rc.connection.connect_timeout = milliseconds{
    cfg.integer("redis.connect-timeout-ms")};
  rc.connection.command_timeout = milliseconds{
    cfg.integer("redis.command-timeout-ms")};
  for (int64_t i = 0; i < cfg.integer("redis.pool-size"); ++i)
    x->redis_pool.push_back(spawn_redis_actor(x->sys, rc));
  // 2. Sessions and their router.
  auto sc = std::make_shared<session_config>();
  sc->redis_timeout = milliseconds{cfg.integer("session.request-timeout-ms")};
  sc->hot_ttl = seconds{cfg.integer("redis.hot-ttl-s")};
  sc->track_dirty = !cfg.text("mongodb.uri").empty();
  sc->max_cached_keys = cfg.integer("session.max-cached-keys");
  sc->cache_max_age = milliseconds{cfg.integer("session.cache-max-age-ms")};
  sc->bounds.max_value_bytes = x->limits.value.max_value_bytes;
  sc->bounds.max_patch_bytes = x->limits.max_patch_bytes;
  sc->bounds.max_writes = x->limits.max_writes;
  session_router_config rtc;
  rtc.redis_pool = x->redis_pool;
  rtc.session = sc;
  rtc.idle_passivate = seconds{cfg.integer("session.idle-passivate-s")};
  rtc.max_live = cfg.integer("session.max-live");
  x->router = spawn_session_router(x->sys, std::move(rtc));
  // A blocking call waits for the session's own bound plus a margin, so the
  // session's precise error (timeout, hot_unavailable) arrives first.
  x->call_timeout = sc->redis_timeout + milliseconds{1000};
  return std::unique_ptr<engine>{new engine(std::move(x))};
}

engine::~engine() {
  // Reverse order: the router (which passivates its sessions), then Redis.
  caf::anon_send_exit(impl_->router, caf::exit_reason::user_shutdown);
  for (auto& r : impl_->redis_pool)
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  impl_->router = nullptr;
  impl_->redis_pool.clear();
  // ~actor_system waits for every actor (in-flight replies included).
}

outcome<uint64_t> engine::set(const std::string& sid, patch p) {
  return impl_->call<uint64_t>(set_atom::value, sid, std::move(p));
}

outcome<uint64_t> engine::set_json(const std::string& sid,
                                   std::string_view doc) {
  auto p = parse_patch(doc, impl_->limits);
  if (!p)
    return p.error();
  return set(sid, std::move(*p));
}

outcome<creds_reply> engine::get_creds(const std::string& sid) {
  return impl_->call<creds_reply>(get_creds_atom::value, sid);
}

outcome<keys_reply> engine::get_keys(const std::string& sid,
                                     const std::string& type,
                                     const std::vector<std::string>& ids) {
  return impl_->call<keys_reply>(get_keys_atom::value, sid, type, ids);
}

outcome<bool> engine::del(const std::string& sid) {
  return impl_->call<bool>(del_atom::value, sid);
}

outcome<bool> engine::touch(const std::string& sid) {
  return impl_->call<bool>(touch_atom::value, sid);
}

outcome<bool> engine::exists(const std::string& sid) {
  return impl_->call<bool>(exists_atom::value, sid);
}

const patch_limits& engine::limits() const {
  return impl_->limits;
}

const settings& engine::config() const {
  return impl_->cfg;
}

caf::actor_system& engine_system(engine& e) {
  return e.internals().sys;
}

router_actor engine_router(engine& e) {
  return e.internals().router;
}

redis_pool_counters engine_redis_counters(engine& e) {
  redis_pool_counters total;
  caf::scoped_actor self{e.internals().sys};
  for (auto& r : e.internals().redis_pool)
    self->request(r, std::chrono::seconds{5}, stats_atom::value)
      .receive(
        [&](uint64_t round_trips, uint64_t commands) {
          total.round_trips += round_trips;
          total.commands += commands;
        },
        [](caf::error&) {});
  return total;
}

} // namespace authstore
