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
// Forwarding (issue #19, node ownership on; docs/ARCHITECTURE.md
// "Forwarding"): a session is owned by at most one node, and only the
// owner answers from its cache or writes. The router learns that another
// node owns a session from its local session actor, whose ownership take
// Redis refused (owner_atom: node id, lease left), keeps that as a hint
// (owner_hints.hpp) and, while it lasts, forwards the session's requests
// over an authenticated middleman connection (peer_connector_actor, the
// remote client's handshake) to the owner's router, relaying the reply.
// While its own session actor holds the lease (it reports each take and
// renewal the same way, naming this node), the router delegates to it as
// with ownership off: the owner's path has no extra hop. Otherwise it asks
// its local session actor by request, not delegate, so that a write refused
// with not_owner (another node owns the session) is forwarded to the owner
// just learnt, once. Nothing
// refused with not_owner or unreachable was applied, so sending it on is
// safe. A forward that fails before the owner saw it (unreachable,
// shutting_down) falls back to the local actor without forwarding again:
// a read is answered from Redis (correct on any node), a write is applied
// if this node can take the session (the owner's record expired: a
// takeover, starting from Redis) and refused with not_owner (retryable)
// while the owner's record lasts. A forward that times out is answered
// timeout: the owner may have applied it. Ownership off (one node, or
// cluster.test-fencing false): delegate, exactly as before -- no extra hop.
//
// Loops: a node forwards only on a hint from Redis that names another
// node, and a hint ends when that node's record would. Two nodes can hold
// hints naming each other only across a change of owner, which needs the
// first record to expire, so a request can bounce at most until the hints
// run out; each hop is bounded by forward_timeout anyway.
//
// Lifecycle: spawned by the wiring; on exit its session actors are
// passivated (they finish what they have in flight).
//
// Size: over the house's ~400 lines since forwarding; not split, because
// the forwarding templates need the router's state and session_for, and a
// private header between them would break the top-down reading order for
// ~150 lines (the CAF-free part, the hint table, is owner_hints.hpp).
#include "actors/session_router.hpp"

#include <functional>
#include <list>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/owner_hints.hpp"
#include "messages/session_id.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

using clock = std::chrono::steady_clock;

struct live_session {
  session_actor handle;
  std::list<std::pair<std::string, clock::time_point>>::iterator lru_pos;
};

/// A connection to another node: ready, or being made (callers wait).
struct peer_link {
  caf::actor conn;
  std::vector<std::function<void(caf::actor, const caf::error&)>> waiting;
};

struct router_state {
  session_router_config cfg;
  std::unordered_map<std::string, live_session> live;
  /// Front: most recently used.
  std::list<std::pair<std::string, clock::time_point>> lru;
  router_stats stats;
  /// Node ownership only: sessions other nodes own, and connections to
  /// those nodes (through the connector, once the wiring named it).
  std::optional<owner_hints> hints;
  peer_connector_actor connector;
  std::unordered_map<std::string, peer_link> peers;
  static inline const char* name = "authstore.router";
};

using router_pointer = engine_router_actor::stateful_pointer<router_state>;

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
  auto handle
    = spawn_session_actor(self->system(), sid, redis, st.cfg.session,
                          st.hints ? caf::actor_cast<engine_router_actor>(self)
                                   : engine_router_actor{});
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
  auto now = clock::now();
  auto cutoff = now - st.cfg.idle_passivate;
  while (!st.lru.empty() && st.lru.back().second < cutoff)
    passivate(self, st.lru.back().first);
  if (st.hints)
    st.hints->expire(now);
  self->delayed_send(self, st.cfg.sweep_interval, tick_atom::value);
}

// -- forwarding (node ownership only) -----------------------------------------

/// Where a per-session reply goes: a response promise or a batch slot.
template <class Reply>
struct reply_sink {
  std::function<void(Reply&)> ok;
  std::function<void(const caf::error&)> fail;
};

template <class Reply>
reply_sink<Reply> sink_of(caf::typed_response_promise<Reply> rp) {
  return {[rp](Reply& r) mutable { rp.deliver(std::move(r)); },
          [rp](const caf::error& e) mutable {
            rp.deliver(e);
          }};
}

void count_forward(router_pointer self,
                   std::atomic<uint64_t> cluster_counters::*which) {
  const auto& own = self->state.cfg.session->ownership;
  if (own && own->counters)
    (own->counters->*which).fetch_add(1, std::memory_order_relaxed);
}

/// The node to forward `sid` to now, if another node owns it.
std::optional<std::string> forward_target(router_pointer self,
                                          const std::string& sid) {
  return self->state.hints->owner(sid, clock::now());
}

/// Calls `fn` with a connection to `node`, or with the error that kept the
/// connector from making one.
void with_peer(router_pointer self, const std::string& node,
               std::function<void(caf::actor, const caf::error&)> fn) {
  auto& st = self->state;
  if (!st.connector)
    return fn({}, make_error(errc::unreachable,
                             "no connections to other nodes (authstore serve "
                             "starts them)"));
  auto& link = st.peers[node];
  if (link.conn)
    return fn(link.conn, caf::error{});
  link.waiting.push_back(std::move(fn));
  if (link.waiting.size() > 1)
    return; // a connect is on its way
  self->request(st.connector, st.cfg.connect_timeout, peer_atom::value, node)
    .then(
      [self, node](caf::actor& conn) {
        auto& l = self->state.peers[node];
        l.conn = conn;
        auto waiting = std::move(l.waiting);
        l.waiting.clear();
        for (auto& f : waiting)
          f(conn, caf::error{});
      },
      [self, node](caf::error& err) {
        auto waiting = std::move(self->state.peers[node].waiting);
        self->state.peers.erase(node);
        for (auto& f : waiting)
          f({}, err);
      });
}

template <class Reply, class Atom, class... Ts>
void dispatch(router_pointer self, const std::string& sid, bool may_forward,
              reply_sink<Reply> sink, Atom a, Ts... xs);

/// Sends one request of `sid` to `node`'s router and relays the reply. A
/// failure before the owner saw the request falls back to this node's
/// session actor (see the file comment).
template <class Reply, class Atom, class... Ts>
void forward(router_pointer self, const std::string& node,
             const std::string& sid, reply_sink<Reply> sink, Atom a, Ts... xs) {
  count_forward(self, &cluster_counters::forwards);
  auto fallback = [=](const caf::error&) {
    count_forward(self, &cluster_counters::forward_failures);
    self->state.hints->forget(sid, node);
    dispatch<Reply>(self, sid, false, sink, a, xs...);
  };
  with_peer(self, node, [=](caf::actor conn, const caf::error& err) {
    if (!conn)
      return fallback(err);
    self->request(conn, self->state.cfg.forward_timeout, a, sid, xs...)
      .then([sink](Reply& r) { sink.ok(r); },
            [=](caf::error& err) {
              auto code = to_failure(err).code;
              bool not_seen
                = code == errc::unreachable || code == errc::shutting_down;
              if (not_seen || code == errc::timeout)
                self->state.peers.erase(node); // the connector checks it
              if (not_seen)
                return fallback(err);
              if (code == errc::timeout)
                count_forward(self, &cluster_counters::forward_failures);
              sink.fail(err);
            });
  });
}

/// Routes one request of `sid` under node ownership: forwarded while a
/// hint names another owner, else asked of the local session actor (and a
/// write it refuses with not_owner forwarded, once, to the owner it then
/// learnt).
template <class Reply, class Atom, class... Ts>
void dispatch(router_pointer self, const std::string& sid, bool may_forward,
              reply_sink<Reply> sink, Atom a, Ts... xs) {
  if (may_forward)
    if (auto node = forward_target(self, sid))
      return forward<Reply>(self, *node, sid, std::move(sink), a, xs...);
  self
    ->request(session_for(self, sid), self->state.cfg.forward_timeout, a, xs...)
    .then([sink](Reply& r) { sink.ok(r); },
          [=](caf::error& err) {
            if (may_forward && to_failure(err).code == errc::not_owner)
              if (auto node = forward_target(self, sid))
                return forward<Reply>(self, *node, sid, sink, a, xs...);
            sink.fail(err);
          });
}

/// One per-session request from a client: delegated to the session actor
/// (ownership off, or this node owns the session: no extra hop) or routed.
template <class Reply, class Atom, class... Ts>
caf::result<Reply> route(router_pointer self, const std::string& sid, Atom a,
                         Ts... xs) {
  // This node's actor held the lease at its last take or renewal: it
  // answers the caller directly, as with ownership off. Should it have
  // lost the lease meanwhile (another node took over after this one
  // stopped renewing), its write answers not_owner (nothing applied,
  // retryable) to the caller instead of being forwarded.
  if (!self->state.hints || self->state.hints->local(sid, clock::now()))
    return self->delegate(session_for(self, sid), a, std::move(xs)...);
  auto rp = self->make_response_promise<Reply>();
  dispatch<Reply>(self, sid, true, sink_of(rp), a, std::move(xs)...);
  return rp;
}

/// Runs `ask` against each session (its actor, or under ownership its
/// owner) and answers with one result per id.
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
    ask(ids[i], i, results, done);
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

/// One session of a batch: asked of its actor with the batch bound, or
/// under ownership routed like a single request.
template <class Reply, class Ok, class Fail, class Done, class Atom>
void batch_one(router_pointer self, const std::string& sid,
               std::chrono::milliseconds timeout, Ok ok, Fail fail, Done done,
               Atom a) {
  if (self->state.hints) {
    reply_sink<Reply> sink{[=](Reply& r) mutable {
                             ok(r);
                             done();
                           },
                           [=](const caf::error& e) mutable {
                             fail(e);
                             done();
                           }};
    return dispatch<Reply>(self, sid, true, std::move(sink), a);
  }
  self->request(session_for(self, sid), timeout, a)
    .then(
      [=](Reply& r) mutable {
        ok(r);
        done();
      },
      [=](caf::error& err) mutable {
        fail(err);
        done();
      });
}

engine_router_actor::behavior_type router_impl(router_pointer self,
                                               session_router_config cfg) {
  self->state.cfg = std::move(cfg);
  if (const auto& own = self->state.cfg.session->ownership)
    self->state.hints.emplace(own->node_id);
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
      return route<creds_reply>(self, sid, a);
    },
    [=](get_keys_atom a, const std::string& sid, std::string& type,
        std::vector<std::string>& ids) -> caf::result<keys_reply> {
      if (auto ok = check_sid(self, op_kind::get_keys, sid); !ok)
        return make_error(ok.error());
      return route<keys_reply>(self, sid, a, std::move(type), std::move(ids));
    },
    [=](set_atom a, const std::string& sid, patch& p) -> caf::result<uint64_t> {
      if (auto ok = check_sid(self, op_kind::set, sid); !ok)
        return make_error(ok.error());
      return route<uint64_t>(self, sid, a, std::move(p));
    },
    [=](del_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::del, sid); !ok)
        return make_error(ok.error());
      return route<bool>(self, sid, a);
    },
    [=](del_atom a, const std::string& sid,
        lease_token& lease) -> caf::result<delete_reply> {
      if (auto ok = check_sid(self, op_kind::del, sid); !ok)
        return make_error(ok.error());
      return route<delete_reply>(self, sid, a, std::move(lease));
    },
    [=](list_keys_atom a, const std::string& sid,
        std::string& type) -> caf::result<key_ids_reply> {
      if (auto ok = check_sid(self, op_kind::list_keys, sid); !ok)
        return make_error(ok.error());
      return route<key_ids_reply>(self, sid, a, std::move(type));
    },
    [=](lease_atom a, const std::string& sid,
        lease_request& req) -> caf::result<lease_reply> {
      if (auto ok = check_sid(self, op_kind::lease, sid); !ok)
        return make_error(ok.error());
      return route<lease_reply>(self, sid, a, std::move(req));
    },
    [=](release_atom a, const std::string& sid,
        std::string& holder) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::lease, sid); !ok)
        return make_error(ok.error());
      return route<bool>(self, sid, a, std::move(holder));
    },
    [=](touch_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::touch, sid); !ok)
        return make_error(ok.error());
      return route<bool>(self, sid, a);
    },
    [=](exists_atom a, const std::string& sid) -> caf::result<bool> {
      if (auto ok = check_sid(self, op_kind::exists, sid); !ok)
        return make_error(ok.error());
      return route<bool>(self, sid, a);
    },
    [=](read_session_atom a,
        const std::string& sid) -> caf::result<session_snapshot> {
      if (auto ok = check_sid(self, op_kind::read_session, sid); !ok)
        return make_error(ok.error());
      return route<session_snapshot>(self, sid, a);
    },
    [=](list_sessions_atom, const std::string& cursor, uint32_t count) {
      return list_sessions(self, cursor, count);
    },
    [=](mget_atom, const std::vector<std::string>& ids) {
      return fan_out(
        self, ids,
        [=](const std::string& sid, size_t i, auto results, auto done) {
          batch_one<creds_reply>(
            self, sid, timeout,
            [=](creds_reply& r) mutable { (*results)[i].creds = std::move(r); },
            [=](const caf::error& err) mutable {
              set_error((*results)[i], err);
            },
            done, get_creds_atom::value);
        });
    },
    [=](mdel_atom, const std::vector<std::string>& ids) {
      return fan_out(
        self, ids,
        [=](const std::string& sid, size_t i, auto results, auto done) {
          batch_one<bool>(
            self, sid, timeout,
            [=](bool& existed) mutable { (*results)[i].existed = existed; },
            [=](const caf::error& err) mutable {
              set_error((*results)[i], err);
            },
            done, del_atom::value);
        });
    },
    [=](owner_atom, const std::string& sid, const std::string& node,
        int64_t left_ms) {
      if (self->state.hints)
        self->state.hints->learn(
          sid, node, clock::now() + std::chrono::milliseconds{left_ms});
    },
    [=](peer_atom, peer_connector_actor& connector) {
      self->state.connector = std::move(connector);
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

engine_router_actor spawn_session_router(caf::actor_system& sys,
                                         session_router_config cfg) {
  return sys.spawn(router_impl, std::move(cfg));
}

} // namespace authstore
