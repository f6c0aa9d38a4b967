// session_router.cpp -- routes by session id to one actor per session.
//
// Why: the session actor's mailbox is what serializes a session's writes, so
// there must be exactly one per id in this process. The router spawns it on
// the first message, forwards with delegate (the session answers the caller
// directly: no extra hop on the way back), and passivates it:
//   - after `idle_passivate` without a message (swept every sweep_interval),
//   - when more than `max_live` are alive (least recently used first).
//
// Passivation never drops a message: the router forgets the handle and sends
// `passivate`, which is queued behind every message already routed; the
// session actor answers all of them and stops when its last Redis reply is
// in. A message for that id arriving later spawns a fresh actor; it uses the
// same Redis connection (same pool member), whose FIFO keeps the old actor's
// in-flight writes ahead of the new actor's requests.
//
// Lifecycle: spawned by the wiring; on exit its session actors are
// passivated (they finish what they have in flight).
#include "actors/session_router.hpp"

#include <functional>
#include <list>
#include <unordered_map>

#include <caf/all.hpp>

#include "messages/session_id.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

using clock = std::chrono::steady_clock;

struct live_session {
  session_actor handle;
  std::list<std::pair<std::string, clock::time_point>>::iterator lru_pos;
};

struct router_state {
  session_router_config cfg;
  std::unordered_map<std::string, live_session> live;
  /// Front: most recently used.
  std::list<std::pair<std::string, clock::time_point>> lru;
  router_stats stats;
  static inline const char* name = "authstore.router";
};

using router_pointer = router_actor::stateful_pointer<router_state>;

void passivate(router_pointer self, const std::string& sid) {
  auto& st = self->state;
  auto i = st.live.find(sid);
  if (i == st.live.end())
    return;
  self->send(i->second.handle, passivate_atom::value);
  st.lru.erase(i->second.lru_pos);
  st.live.erase(i);
  ++st.stats.passivations;
  if (auto* c = st.cfg.session->counters) {
    c->passivations.fetch_add(1, std::memory_order_relaxed);
    c->live_actors.fetch_sub(1, std::memory_order_relaxed);
  }
}

/// The actor for `sid`, spawned if needed; marks it most recently used.
session_actor& session_for(router_pointer self, const std::string& sid) {
  auto& st = self->state;
  auto now = clock::now();
  if (auto i = st.live.find(sid); i != st.live.end()) {
    st.lru.splice(st.lru.begin(), st.lru, i->second.lru_pos);
    i->second.lru_pos->second = now;
    return i->second.handle;
  }
  auto& pool = st.cfg.redis_pool;
  auto& redis = pool[std::hash<std::string>{}(sid) % pool.size()];
  auto handle = spawn_session_actor(self->system(), sid, redis, st.cfg.session);
  st.lru.emplace_front(sid, now);
  auto& entry = st.live[sid];
  entry.handle = std::move(handle);
  entry.lru_pos = st.lru.begin();
  ++st.stats.activations;
  if (auto* c = st.cfg.session->counters) {
    c->activations.fetch_add(1, std::memory_order_relaxed);
    c->live_actors.fetch_add(1, std::memory_order_relaxed);
  }
  while (st.live.size() > st.cfg.max_live)
    passivate(self, st.lru.back().first);
  return st.live[sid].handle;
}

void sweep_idle(router_pointer self) {
  auto& st = self->state;
  auto cutoff = clock::now() - st.cfg.idle_passivate;
  while (!st.lru.empty() && st.lru.back().second < cutoff)
    passivate(self, st.lru.back().first);
  self->delayed_send(self, st.cfg.sweep_interval, tick_atom::value);
}

/// Runs `ask` against each session and answers with one result per id.
template <class Ask>
caf::result<std::vector<session_result>>
fan_out(router_pointer self, const std::vector<std::string>& ids, Ask ask) {
  auto rp = self->make_response_promise<std::vector<session_result>>();
  auto results = std::make_shared<std::vector<session_result>>(ids.size());
  auto remaining = std::make_shared<size_t>(ids.size());
  if (ids.empty()) {
    rp.deliver(std::vector<session_result>{});
    return rp;
  }
  auto done = [=]() mutable {
    if (--*remaining == 0)
      rp.deliver(std::move(*results));
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& slot = (*results)[i];
    slot.session_id = ids[i];
    if (auto ok = validate_session_id(ids[i]); !ok) {
      slot.error = static_cast<uint8_t>(ok.error().code);
      slot.detail = ok.error().detail;
      done();
      continue;
    }
    ask(session_for(self, ids[i]), i, results, done);
  }
  return rp;
}

/// Validates `sid`; an invalid one is counted as a failed `op`.
outcome<bool> check_sid(router_pointer self, op_kind op,
                        const std::string& sid) {
  auto ok = validate_session_id(sid);
  if (!ok)
    if (auto* c = self->state.cfg.session->counters)
      c->ops.record(op, op_result::of(errc::invalid_session_id),
                    std::chrono::nanoseconds::zero());
  return ok;
}

/// One SCAN step of list_sessions on the first Redis connection (SCAN is
/// not per session, any connection sees the whole database).
caf::result<session_page>
list_sessions(router_pointer self, const std::string& cursor, uint32_t count) {
  // The bound keeps one step as short as a large read (SCAN COUNT is a
  // hint of work per call, each meta hash costs one HMGET).
  constexpr uint32_t max_count = 10000;
  if (count == 0 || count > max_count)
    return make_error(errc::invalid_argument, "list_sessions: count must be 1.."
                                                + std::to_string(max_count));
  auto rp = self->make_response_promise<session_page>();
  self
    ->request(self->state.cfg.redis_pool.front(),
              self->state.cfg.session->redis_timeout, redis_atom::value,
              redis_layout::scan_sessions(cursor, count))
    .then(
      [rp](redis_reply& r) mutable {
        auto page = redis_layout::parse_scan_sessions(r);
        if (page)
          rp.deliver(std::move(*page));
        else
          rp.deliver(make_error(page.error()));
      },
      [rp](caf::error& err) mutable {
        auto f = to_failure(err);
        if (f.code == errc::shutting_down)
          f = {errc::hot_unavailable, "redis actor is gone"};
        rp.deliver(make_error(f));
      });
  return rp;
}

void set_error(session_result& slot, const caf::error& err) {
  auto f = to_failure(err);
  slot.error = static_cast<uint8_t>(f.code);
  slot.detail = std::move(f.detail);
}

router_actor::behavior_type router_impl(router_pointer self,
                                        session_router_config cfg) {
  self->state.cfg = std::move(cfg);
  self->delayed_send(self, self->state.cfg.sweep_interval, tick_atom::value);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    std::vector<std::string> all;
    for (auto& kvp : self->state.live)
      all.push_back(kvp.first);
    for (auto& sid : all)
      passivate(self, sid);
    self->quit(msg.reason);
  });
  // Every session_api message: validate the id, then delegate without it
  // to the id's actor (which answers the caller directly).
  auto timeout = self->state.cfg.batch_timeout;
  return {
    [=](get_creds_atom a, const std::string& sid) -> caf::result<creds_reply> {
      if (auto ok = check_sid(self, op_kind::get_creds, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a);
    },
    [=](get_keys_atom a, const std::string& sid, std::string& type,
        std::vector<std::string>& ids) -> caf::result<keys_reply> {
      if (auto ok = check_sid(self, op_kind::get_keys, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(type),
                            std::move(ids));
    },
    [=](set_atom a, const std::string& sid, patch& p) -> caf::result<uint64_t> {
      if (auto ok = check_sid(self, op_kind::set, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(p));
    },
    [=](del_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::del, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a);
    },
    [=](del_atom a, const std::string& sid,
        lease_token& lease) -> caf::result<delete_reply> {
      if (auto ok = check_sid(self, op_kind::del, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(lease));
    },
    [=](list_keys_atom a, const std::string& sid,
        std::string& type) -> caf::result<key_ids_reply> {
      if (auto ok = check_sid(self, op_kind::list_keys, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(type));
    },
    [=](lease_atom a, const std::string& sid,
        lease_request& req) -> caf::result<lease_reply> {
      if (auto ok = check_sid(self, op_kind::lease, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(req));
    },
    [=](release_atom a, const std::string& sid,
        std::string& holder) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::lease, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a, std::move(holder));
    },
    [=](touch_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::touch, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a);
    },
    [=](exists_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::exists, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a);
    },
    [=](read_session_atom a,
        const std::string& sid) -> caf::result<session_snapshot> {
      if (auto ok = check_sid(self, op_kind::read_session, sid); !ok)
        return make_error(ok.error());
      return self->delegate(session_for(self, sid), a);
    },
    [=](list_sessions_atom, const std::string& cursor, uint32_t count) {
      return list_sessions(self, cursor, count);
    },
    [=](mget_atom, const std::vector<std::string>& ids) {
      return fan_out(self, ids,
                     [=](session_actor& s, size_t i, auto results, auto done) {
                       self->request(s, timeout, get_creds_atom::value)
                         .then(
                           [=](creds_reply& r) mutable {
                             (*results)[i].creds = std::move(r);
                             done();
                           },
                           [=](caf::error& err) mutable {
                             set_error((*results)[i], err);
                             done();
                           });
                     });
    },
    [=](mdel_atom, const std::vector<std::string>& ids) {
      return fan_out(self, ids,
                     [=](session_actor& s, size_t i, auto results, auto done) {
                       self->request(s, timeout, del_atom::value)
                         .then(
                           [=](bool existed) mutable {
                             (*results)[i].existed = existed;
                             done();
                           },
                           [=](caf::error& err) mutable {
                             set_error((*results)[i], err);
                             done();
                           });
                     });
    },
    [=](stats_atom) {
      auto s = self->state.stats;
      s.live_sessions = self->state.live.size();
      return s;
    },
    [=](tick_atom) { sweep_idle(self); },
  };
}

} // namespace

router_actor spawn_session_router(caf::actor_system& sys,
                                  session_router_config cfg) {
  return sys.spawn(router_impl, std::move(cfg));
}

} // namespace authstore
