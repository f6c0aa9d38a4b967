// session_handle.cpp -- the session handle (remote_session.hpp): state,
// admission, forwarding, draining.
#include "runtime/remote/session_handle.hpp"

#include <caf/all.hpp>

namespace authstore {

namespace {

struct session_state {
  remote_session_config args;
  caf::actor_addr peer_addr;
  caf::node_id peer_node;
  /// Requests forwarded and not answered yet.
  size_t outstanding = 0;
  /// Set by user_shutdown: refuse new requests, quit when outstanding == 0.
  bool draining = false;
  static inline const char* name = "remote_session";
};

using session_ptr = router_actor::stateful_pointer<session_state>;

/// Checks a request before it reaches the engine. Refusals are "not
/// applied": nothing was forwarded.
caf::error admit(session_ptr self, size_t bytes) {
  auto& st = self->state;
  const auto& sender = self->current_sender();
  // Actor ids are sequential, so another node could address this handle
  // without authenticating; only the node that authenticated is served.
  if (!sender || sender->node() != st.peer_node)
    return make_error(errc::unauthorized,
                      "this session belongs to another peer; authenticate "
                      "through the published gate");
  if (st.draining)
    return make_error(errc::shutting_down,
                      "the node is shutting down; the request was not "
                      "applied");
  if (st.outstanding >= st.args.max_outstanding)
    return make_error(errc::overloaded,
                      std::to_string(st.outstanding)
                        + " requests in flight on this connection "
                          "(remote.max-outstanding); the request was not "
                          "applied");
  if (bytes > st.args.max_message_bytes)
    return make_error(errc::value_too_large,
                      "request of " + std::to_string(bytes)
                        + " bytes exceeds remote.max-message-bytes ("
                        + std::to_string(st.args.max_message_bytes)
                        + "); the request was not applied");
  return caf::none;
}

void finished(session_ptr self) {
  auto& st = self->state;
  --st.outstanding;
  if (st.draining && st.outstanding == 0)
    self->quit(caf::exit_reason::user_shutdown);
}

/// Forwards one request to the router with the forward timeout and answers
/// the peer with whatever comes back. Errors that are not authstore's own
/// are translated (to_failure): a timeout stays "may or may not have been
/// applied".
template <class T, class... Ts>
caf::result<T> forward(session_ptr self, size_t bytes, Ts&&... xs) {
  if (auto err = admit(self, bytes))
    return err;
  ++self->state.outstanding;
  auto rp = self->template make_response_promise<T>();
  self
    ->request(self->state.args.router, self->state.args.forward_timeout,
              std::forward<Ts>(xs)...)
    .then(
      [self, rp](T& x) mutable {
        rp.deliver(std::move(x));
        finished(self);
      },
      [self, rp](caf::error& err) mutable {
        rp.deliver(make_error(to_failure(err)));
        finished(self);
      });
  return rp;
}

size_t bytes_of(const std::vector<std::string>& xs) {
  size_t n = 0;
  for (const auto& x : xs)
    n += x.size() + 1;
  return n;
}

void start_drain(session_ptr self) {
  self->state.draining = true;
  if (self->state.outstanding == 0)
    self->quit(caf::exit_reason::user_shutdown);
}

/// The behavior; see the header for the lifecycle.
router_actor::behavior_type session_handle(session_ptr self,
                                           remote_session_config args) {
  self->state.peer_addr = caf::actor_cast<caf::actor_addr>(args.peer);
  self->state.peer_node = args.peer ? args.peer->node() : caf::node_id{};
  self->monitor(args.peer);
  self->state.args = std::move(args);
  // Unknown messages from a peer: answer unexpected_message, print nothing
  // (the default prints every one, which a peer could use to flood logs).
  self->set_default_handler(
    [](caf::scheduled_actor*, caf::message_view&) -> caf::result<caf::message> {
      return caf::sec::unexpected_message;
    });
  self->set_down_handler([self](caf::down_msg& dm) {
    if (dm.source == self->state.peer_addr)
      self->quit(caf::exit_reason::normal);
  });
  // user_shutdown (sent by the gate on stop) drains instead of quitting at
  // once; a peer can send it too, which only ends its own session.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (em.reason == caf::exit_reason::user_shutdown)
      start_drain(self);
    else if (em.reason != caf::exit_reason::normal)
      self->quit(em.reason);
  });
  return {
    [self](get_creds_atom a, std::string& sid) -> caf::result<creds_reply> {
      return forward<creds_reply>(self, sid.size(), a, std::move(sid));
    },
    [self](get_keys_atom a, std::string& sid, std::string& type,
           std::vector<std::string>& ids) -> caf::result<keys_reply> {
      auto n = sid.size() + type.size() + bytes_of(ids);
      return forward<keys_reply>(self, n, a, std::move(sid), std::move(type),
                                 std::move(ids));
    },
    [self](set_atom a, std::string& sid, patch& p) -> caf::result<uint64_t> {
      auto n = sid.size() + p.payload_bytes();
      return forward<uint64_t>(self, n, a, std::move(sid), std::move(p));
    },
    [self](del_atom a, std::string& sid) -> caf::result<bool> {
      return forward<bool>(self, sid.size(), a, std::move(sid));
    },
    [self](del_atom a, std::string& sid,
           lease_token& lease) -> caf::result<delete_reply> {
      auto n = sid.size() + lease.holder.size();
      return forward<delete_reply>(self, n, a, std::move(sid),
                                   std::move(lease));
    },
    [self](list_keys_atom a, std::string& sid,
           std::string& type) -> caf::result<key_ids_reply> {
      auto n = sid.size() + type.size();
      return forward<key_ids_reply>(self, n, a, std::move(sid),
                                    std::move(type));
    },
    [self](lease_atom a, std::string& sid,
           lease_request& req) -> caf::result<lease_reply> {
      auto n = sid.size() + req.holder.size();
      return forward<lease_reply>(self, n, a, std::move(sid), std::move(req));
    },
    [self](release_atom a, std::string& sid,
           std::string& holder) -> caf::result<bool> {
      auto n = sid.size() + holder.size();
      return forward<bool>(self, n, a, std::move(sid), std::move(holder));
    },
    [self](touch_atom a, std::string& sid) -> caf::result<bool> {
      return forward<bool>(self, sid.size(), a, std::move(sid));
    },
    [self](exists_atom a, std::string& sid) -> caf::result<bool> {
      return forward<bool>(self, sid.size(), a, std::move(sid));
    },
    [self](read_session_atom a,
           std::string& sid) -> caf::result<session_snapshot> {
      return forward<session_snapshot>(self, sid.size(), a, std::move(sid));
    },
    [self](list_sessions_atom a, std::string& cursor,
           uint32_t count) -> caf::result<session_page> {
      return forward<session_page>(self, cursor.size(), a, std::move(cursor),
                                   count);
    },
    [self](mget_atom a, std::vector<std::string>& ids)
      -> caf::result<std::vector<session_result>> {
      return forward<std::vector<session_result>>(self, bytes_of(ids), a,
                                                  std::move(ids));
    },
    [self](mdel_atom a, std::vector<std::string>& ids)
      -> caf::result<std::vector<session_result>> {
      return forward<std::vector<session_result>>(self, bytes_of(ids), a,
                                                  std::move(ids));
    },
    [self](stats_atom a) -> caf::result<router_stats> {
      return forward<router_stats>(self, 0, a);
    },
    // The router's internal timer; meaningless from a peer, so ignored.
    [](tick_atom) {},
  };
}

} // namespace

router_actor spawn_remote_session(caf::actor_system& sys,
                                  remote_session_config cfg) {
  return sys.spawn(session_handle, std::move(cfg));
}

} // namespace authstore
