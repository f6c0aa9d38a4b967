// cluster_registrar.cpp -- keeps this node in the cluster's membership
// (issue #19): one entry per node in Redis (redis/scripts/member.lua: node
// id -> expiry, process token and middleman address), refreshed every
// cluster.heartbeat-ms; a node that stops heartbeating drops out once its
// entry is cluster.member-ttl-ms old, within one heartbeat of whichever
// node beats next (each beat removes expired entries).
//
// Lifecycle:
//
//   spawned by the engine (cluster.enabled) --> joining
//      | join(address): authstore serve, once its middleman port is known
//      v
//   beating (a tick per heartbeat; each answer replaces the member list)
//      | exit (engine stop)
//      v
//   leave (one script call, bounded), then stopped
//
// Resolving a node for forwarding (members_atom with a node id): a node that
// joined after this registrar's last beat is not in its view yet, so such a
// question is answered after one extra beat (at most one in flight; the
// timer's beats go on as before) instead of "not a member".
//
// What it guarantees: membership is information (health, and the addresses
// a forwarding node needs); safety does not depend on it. Ownership is per
// session and per process token (redis/scripts/own.lua), so two processes
// started with one node id by mistake cannot both own a session; the
// heartbeat refuses the second one (member.lua answers IN_USE), which the
// health endpoint and the log show.
#include "actors/cluster_registrar.hpp"

#include <vector>

#include <caf/all.hpp>

#include "observe/log.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

struct registrar_state {
  registrar_config cfg;
  std::string address;
  cluster_view view;
  /// Callers waiting for a fresh heartbeat (a node id not in the view),
  /// answered with whatever the next heartbeat leaves in the view.
  std::vector<caf::typed_response_promise<cluster_view>> waiting;
  /// The problem last logged, so a lasting one is logged once.
  std::string logged;
  static inline const char* name = "authstore.registrar";
};

using registrar_pointer = registrar_actor::stateful_pointer<registrar_state>;

/// A failed heartbeat: shown in the view, counted, logged once per cause.
void beat_failed(registrar_pointer self, const failure& f) {
  auto& st = self->state;
  st.view.state = "failing";
  st.view.problem = std::string{to_string(f.code)} + ": " + f.detail;
  if (auto* c = st.cfg.counters)
    c->heartbeat_failures.fetch_add(1, std::memory_order_relaxed);
  if (st.logged != st.view.problem) {
    st.logged = st.view.problem;
    log::write(log::level::warn, "cluster", "heartbeat_failed",
               {{"node", st.cfg.node_id},
                {"reason", std::string{to_string(f.code)}},
                {"detail", f.detail}});
  }
}

/// Answers the callers waiting for a fresh heartbeat.
void answer_waiting(registrar_pointer self) {
  auto waiting = std::move(self->state.waiting);
  self->state.waiting.clear();
  for (auto& rp : waiting)
    rp.deliver(self->state.view);
}

void beat(registrar_pointer self) {
  auto& st = self->state;
  auto req = redis_layout::member_beat(st.cfg.node_id, st.cfg.process_token,
                                       st.address, st.cfg.member_ttl.count());
  self->request(st.cfg.redis, st.cfg.redis_timeout, redis_atom::value, req)
    .then(
      [self](redis_reply& r) {
        auto& st = self->state;
        auto members = redis_layout::parse_member_beat(r);
        if (!members) {
          beat_failed(self, members.error());
          return answer_waiting(self);
        }
        st.view.state = "ok";
        st.view.problem.clear();
        st.view.members.clear();
        for (auto& m : *members)
          st.view.members.push_back(
            {std::move(m.node_id), std::move(m.address), m.expires_in_ms});
        if (auto* c = st.cfg.counters)
          c->members.store(static_cast<int64_t>(st.view.members.size()),
                           std::memory_order_relaxed);
        if (!st.logged.empty() || st.view.members.empty()) {
          st.logged.clear();
          log::write(log::level::info, "cluster", "member",
                     {{"node", st.cfg.node_id},
                      {"members", std::to_string(st.view.members.size())}});
        }
        answer_waiting(self);
      },
      [self](caf::error& err) {
        beat_failed(self, to_failure(err));
        answer_waiting(self);
      });
}

/// The view, once it names `node` or after one more heartbeat.
caf::result<cluster_view> members_with(registrar_pointer self,
                                       const std::string& node) {
  auto& st = self->state;
  for (const auto& m : st.view.members)
    if (m.node_id == node)
      return st.view;
  if (st.address.empty()) // not joined: no heartbeat to wait for
    return st.view;
  auto rp = self->make_response_promise<cluster_view>();
  st.waiting.push_back(rp);
  if (st.waiting.size() == 1)
    beat(self); // the timer's beats go on as before
  return rp;
}

registrar_actor::behavior_type registrar_impl(registrar_pointer self,
                                              registrar_config cfg) {
  self->state.cfg = std::move(cfg);
  self->state.view.node_id = self->state.cfg.node_id;
  self->state.view.state = "joining";
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.address.empty())
      return self->quit(msg.reason);
    auto reason = msg.reason;
    self
      ->request(
        st.cfg.redis, st.cfg.redis_timeout, redis_atom::value,
        redis_layout::member_leave(st.cfg.node_id, st.cfg.process_token))
      .then([self, reason](redis_reply&) { self->quit(reason); },
            [self, reason](caf::error&) { self->quit(reason); });
  });
  return {
    [=](members_atom) { return self->state.view; },
    [=](members_atom, const std::string& node) {
      return members_with(self, node);
    },
    [=](join_atom, std::string& address) {
      bool first = self->state.address.empty();
      self->state.address = std::move(address);
      if (first)
        self->send(self, tick_atom::value);
    },
    [=](tick_atom) {
      beat(self);
      self->delayed_send(self, self->state.cfg.heartbeat, tick_atom::value);
    },
  };
}

} // namespace

registrar_actor spawn_cluster_registrar(caf::actor_system& sys,
                                        registrar_config cfg) {
  return sys.spawn(registrar_impl, std::move(cfg));
}

} // namespace authstore
