// engine.cpp -- wiring: spawns the actor graph in dependency order and stops
// it in reverse (engine.hpp).
//
//   redis pool (detached, one per connection)
//     <- cold supervisor (scheduled) -> cold worker (detached; or a pool of
//        cold.workers of them) around the configured backend's store
//        (cold_config.cpp), only with a cold store (cold.uri)
//     <- session router (scheduled) <- session actors (spawned on demand)
//
// The CAF configuration is set from code only: parse() is never called, so
// a stray caf-application.ini in the working directory changes nothing.
// Scheduler: max-threads from the config (default 2) and
// work-stealing.moderate-sleep-duration=0, the measured best on 2 cores
// (CAF-0.17-GUIDE §7: 5-6x lower thread-hop latency, less idle CPU).
#include "runtime/engine/engine_impl.hpp"

#include <optional>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/cluster_registrar.hpp"
#include "actors/cold_supervisor.hpp"
#include "actors/outbox_reconciler.hpp"
#include "actors/redis_actor.hpp"
#include "actors/rekey_sweeper.hpp"
#include "actors/session_router.hpp"
#include "crypto/value_cipher.hpp"
#include "messages/timing.hpp"
#include "observe/log.hpp"
#include "runtime/engine/metrics.hpp"
#include "runtime/node/node_settings.hpp"

namespace authstore {

engine_system_config::engine_system_config(const settings& cfg) {
  load<caf::io::middleman>();
  register_messages(*this);
  // Middleman heartbeat and connection timeout (remote.*), so that a server
  // detects frozen clients.
  configure_remote_node(*this, cfg);
  // TLS for `authstore serve` (remote.tls-*): CAF's OpenSSL module and its
  // certificate settings, only when configured (cmd_serve checked the files
  // before this runs).
  configure_tls(*this, tls_files::from(cfg));
  configure_scheduler(*this, cfg);
}

engine::engine(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

namespace {

/// This node's name in the cluster: cluster.node-id, else the middleman's
/// remote.bind:remote.port (the config refuses port 0 without a node id).
std::string cluster_node_id(const settings& cfg) {
  if (!cfg.cluster_node_id().empty())
    return cfg.cluster_node_id();
  return cfg.remote_bind() + ":" + std::to_string(cfg.remote_port());
}

} // namespace

outcome<std::unique_ptr<engine>> engine::start(const settings& cfg) {
  return start_engine(cfg, engine_options{});
}

outcome<std::unique_ptr<engine>> start_engine(const settings& cfg,
                                              engine_options opts) {
  using impl = engine::impl;
  auto url = parse_redis_url(cfg.redis_url());
  if (!url)
    return url.error();
  // Checked before the actor system exists: returning an error after
  // spawning would leave actors that ~actor_system waits for.
  // The counters come first: the stores count into them.
  auto counters = std::make_unique<engine_counters>();
  std::optional<cold_supervisor_config> cold_cfg;
  if (!cfg.cold_store_uri().empty()) {
    auto c = make_cold_config(cfg, &counters->cold_store);
    if (!c)
      return c.error();
    cold_cfg = std::move(*c);
    if (opts.cold_worker)
      cold_cfg->make_worker = std::move(opts.cold_worker);
  }
  // Encryption at rest: a bad key file is a start-up error naming its line.
  std::optional<crypto::key_ring> ring;
  if (!cfg.crypto_key_file().empty()) {
    auto r = crypto::key_ring::load(cfg.crypto_key_file());
    if (!r)
      return r.error();
    ring = std::move(*r);
  }
  if (cfg.crypto_rekey_sweep() && !ring)
    return failure{errc::invalid_config,
                   "crypto.rekey-sweep needs crypto.key-file (there is "
                   "nothing to re-seal without keys)"};
  log::set_level(*log::parse_level(cfg.log_level())); // validated
  auto x = std::make_unique<impl>(cfg, std::move(counters));
  // Limits: the codec's per-value bounds and the patch bounds.
  x->limits.value.max_value_bytes = cfg.codec_max_value_bytes();
  x->limits.value.max_depth = cfg.codec_max_depth();
  x->limits.value.max_fields = cfg.codec_max_fields();
  x->limits.max_patch_bytes = cfg.codec_max_patch_bytes();
  x->limits.max_writes = cfg.codec_max_writes();
  // 1. Redis pool.
  redis_actor_config rc;
  rc.connection.endpoint = *url;
  rc.connection.connect_timeout = cfg.redis_connect_timeout_ms();
  rc.counters = &x->counters->redis;
  rc.connection.command_timeout = cfg.redis_command_timeout_ms();
  for (int64_t i = 0; i < cfg.redis_pool_size(); ++i)
    x->redis_pool.push_back(spawn_redis_actor(x->sys, rc));
  // 2. The cold store's supervisor, which spawns its worker, and the outbox
  //    reconciler (only with a cold store; without one the engine runs
  //    Redis-only and writes leave no dirty marks).
  auto cold_timeout = cfg.cold_call_timeout_ms() + reply_margin;
  if (cold_cfg) {
    cold_cfg->counters = &x->counters->cold;
    cold_cfg->gate = &x->gate;
    x->cold = spawn_cold_supervisor(x->sys, std::move(*cold_cfg));
    if (cfg.outbox_reconcile()) {
      x->reconciler_redis = spawn_redis_actor(x->sys, rc);
      reconciler_config oc;
      oc.redis = x->reconciler_redis;
      oc.cold = x->cold;
      oc.interval = cfg.outbox_interval_ms();
      oc.grace = cfg.outbox_grace_ms();
      oc.max_in_flight = cfg.outbox_max_in_flight();
      oc.lease = cfg.outbox_lease_ms();
      oc.backoff_base = cfg.outbox_backoff_base_ms();
      oc.backoff_max = cfg.outbox_backoff_max_ms();
      oc.sweep_count = cfg.outbox_sweep_count();
      oc.redis_timeout = cfg.session_request_timeout_ms();
      oc.cold_timeout = cold_timeout;
      oc.hot_ttl = cfg.redis_hot_ttl_s();
      oc.owner = make_owner_token();
      oc.counters = &x->counters->outbox;
      oc.gate = &x->gate;
      x->reconciler = spawn_outbox_reconciler(x->sys, std::move(oc));
    }
  }
  // 3. Sessions and their router.
  auto sc = std::make_shared<session_config>();
  sc->redis_timeout = cfg.session_request_timeout_ms();
  sc->hot_ttl = cfg.redis_hot_ttl_s();
  sc->max_cached_keys = cfg.session_max_cached_keys();
  sc->cache_max_age = cfg.session_cache_max_age_ms();
  sc->limits = x->limits;
  sc->counters = &x->counters->sessions;
  sc->cold = x->cold;
  sc->cold_timeout = cold_timeout;
  sc->outbox = &x->counters->outbox;
  sc->gate = x->cold ? &x->gate : nullptr;
  sc->live_max_in_flight = cfg.outbox_live_max_in_flight();
  if (ring) {
    log::write(log::level::info, "engine", "encryption_at_rest",
               {{"active_key", ring->active().id},
                {"keys", std::to_string(ring->keys().size())}});
    sc->cipher = std::make_shared<const crypto::value_cipher>(
      std::move(*ring), &x->counters->security);
    if (cfg.crypto_rekey_sweep()) {
      x->sweeper_redis = spawn_redis_actor(x->sys, rc);
      rekey_sweeper_config wc;
      wc.redis = x->sweeper_redis;
      wc.cipher = sc->cipher;
      wc.interval = cfg.crypto_rekey_interval_ms();
      wc.per_tick = static_cast<size_t>(cfg.crypto_rekey_per_tick());
      wc.redis_timeout = cfg.session_request_timeout_ms();
      wc.with_cold = static_cast<bool>(x->cold);
      wc.hot_ttl = cfg.redis_hot_ttl_s();
      wc.max_fields = static_cast<size_t>(cfg.codec_max_writes());
      wc.max_bytes = static_cast<size_t>(cfg.codec_max_patch_bytes());
      wc.counters = &x->counters->security;
      x->sweeper = spawn_rekey_sweeper(x->sys, std::move(wc));
    }
  }
  // Several nodes (issue #19): ownership for the session actors, and the
  // registrar, which heartbeats once serve names its address (join).
  if (cfg.cluster_enabled()) {
    auto token = make_owner_token();
    if (cfg.cluster_test_fencing()) {
      auto own = std::make_shared<ownership_config>();
      own->node_id = cluster_node_id(cfg);
      own->process_token = token;
      own->lease = cfg.cluster_lease_ms();
      own->margin = cfg.cluster_lease_margin_ms();
      own->renew = cfg.cluster_lease_ms() / 3;
      own->counters = &x->counters->cluster;
      sc->ownership = std::move(own);
    }
    registrar_config gc;
    gc.redis = x->redis_pool.front();
    gc.node_id = cluster_node_id(cfg);
    gc.process_token = token;
    gc.heartbeat = cfg.cluster_heartbeat_ms();
    gc.member_ttl = cfg.cluster_member_ttl_ms();
    gc.redis_timeout = cfg.session_request_timeout_ms();
    gc.counters = &x->counters->cluster;
    x->registrar = spawn_cluster_registrar(x->sys, std::move(gc));
  }
  session_router_config rtc;
  rtc.redis_pool = x->redis_pool;
  rtc.session = sc;
  rtc.idle_passivate = cfg.session_idle_passivate_s();
  rtc.max_live = cfg.session_max_live();
  // Under ownership the router waits for its session actors (to forward a
  // write refused with not_owner) and for forwards: the session's own
  // bound plus the margin, like every caller of a session.
  rtc.forward_timeout = sc->redis_timeout + reply_margin;
  x->router = spawn_session_router(x->sys, std::move(rtc));
  // A blocking call waits for the session's own bound plus a margin, so the
  // session's precise error (timeout, hot_unavailable) arrives first.
  x->call_timeout = sc->redis_timeout + reply_margin;
  std::unique_ptr<engine> result{new engine(std::move(x))};
  return result;
}

engine::~engine() {
  // Reverse order: the registrar (it leaves the membership), the
  // reconciler (its claims expire with their lease), the router (which
  // passivates its sessions, releasing their ownership), the cold
  // supervisor (which stops its worker), then Redis.
  if (impl_->registrar)
    caf::anon_send_exit(impl_->registrar, caf::exit_reason::user_shutdown);
  impl_->registrar = nullptr;
  if (impl_->reconciler)
    caf::anon_send_exit(impl_->reconciler, caf::exit_reason::user_shutdown);
  if (impl_->reconciler_redis)
    caf::anon_send_exit(impl_->reconciler_redis,
                        caf::exit_reason::user_shutdown);
  impl_->reconciler = nullptr;
  impl_->reconciler_redis = nullptr;
  if (impl_->sweeper)
    caf::anon_send_exit(impl_->sweeper, caf::exit_reason::user_shutdown);
  if (impl_->sweeper_redis)
    caf::anon_send_exit(impl_->sweeper_redis, caf::exit_reason::user_shutdown);
  impl_->sweeper = nullptr;
  impl_->sweeper_redis = nullptr;
  caf::anon_send_exit(impl_->router, caf::exit_reason::user_shutdown);
  if (impl_->cold)
    caf::anon_send_exit(impl_->cold, caf::exit_reason::user_shutdown);
  for (auto& r : impl_->redis_pool)
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  impl_->router = nullptr;
  impl_->cold = nullptr;
  impl_->redis_pool.clear();
  // ~actor_system waits for every actor (in-flight replies included).
}

outcome<uint64_t> engine::set(const std::string& sid, patch p) {
  return impl_->call<uint64_t>(set_atom::value, sid, std::move(p));
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

outcome<session_snapshot> engine::read_session(const std::string& sid) {
  return impl_->call<session_snapshot>(read_session_atom::value, sid);
}

outcome<session_page> engine::list_sessions(const std::string& cursor,
                                            uint32_t count) {
  return impl_->call<session_page>(list_sessions_atom::value, cursor, count);
}

outcome<bool> engine::force_cold_open(bool open) {
  if (!impl_->cold)
    return failure{errc::no_cold_store, "no cold store configured"};
  outcome<bool> result{errc::internal, "no reply"};
  caf::scoped_actor self{impl_->sys};
  auto on_status = [&](const cold_status&) {
    result = true;
  };
  auto on_error = [&](caf::error& err) {
    result = to_failure(err);
  };
  if (open)
    self->request(impl_->cold, impl_->call_timeout, force_open_atom::value)
      .receive(on_status, on_error);
  else
    self->request(impl_->cold, impl_->call_timeout, reset_breaker_atom::value)
      .receive(on_status, on_error);
  return result;
}

void engine::join_cluster(const std::string& address) {
  if (impl_->registrar)
    caf::anon_send(impl_->registrar, join_atom::value, address);
}

const patch_limits& engine::limits() const {
  return impl_->limits;
}

const settings& engine::config() const {
  return impl_->cfg;
}

std::string engine::metrics_text() const {
  cold_status cs;
  bool has_cold = query_cold_status(*impl_, cs);
  return render_metrics(*impl_->counters, has_cold ? &cs : nullptr);
}

} // namespace authstore
