// connection.cpp -- the client's connection actor
// (remote_connection.hpp): handshake, forwarding, failing pending calls.
#include "runtime/remote/connection.hpp"

#include <functional>
#include <unordered_map>

#include <caf/all.hpp>

#include "messages/interfaces.hpp"
#include "runtime/remote/auth.hpp"

namespace authstore {

namespace {

using std::chrono::milliseconds;

struct conn_state {
  router_actor session;
  caf::actor_addr session_addr;
  std::shared_ptr<std::atomic<bool>> alive;
  std::string secret;
  uint32_t version = 0;
  milliseconds request_timeout{0};
  milliseconds handshake_timeout{0};
  std::string endpoint;
  uint64_t next_id = 0;
  /// Calls sent to the session and not answered: id -> fail it.
  std::unordered_map<uint64_t, std::function<void(const caf::error&)>> pending;
  static inline const char* name = "remote_connection";
};

using conn_ptr = caf::stateful_actor<conn_state>*;

bool is_system_error(const caf::error& e, caf::sec code) {
  return e.category() == caf::atom("system")
         && e.code() == static_cast<uint8_t>(code);
}

/// An error that came back for a request already sent to the server.
caf::error after_send(const conn_state& st, const caf::error& e) {
  if (e.category() == error_category())
    return e;
  if (is_system_error(e, caf::sec::request_timeout))
    return make_error(errc::timeout,
                      "no answer from " + st.endpoint + " within "
                        + std::to_string(st.request_timeout.count())
                        + " ms; the request may or may not have been "
                          "applied");
  // CAF bounces a message with request_receiver_down only when no handler
  // ran for it: the server's session was gone when it arrived (e.g. just
  // drained; this can overtake the down_msg), or the local proxy was
  // already dead and never sent it. Either way the engine never saw it.
  if (is_system_error(e, caf::sec::request_receiver_down))
    return make_error(errc::unreachable,
                      "the session at " + st.endpoint
                        + " was gone when the request reached it; the "
                          "request was not applied");
  return make_error(errc::timeout,
                    "lost the answer from " + st.endpoint + " ("
                      + caf::to_string(e)
                      + "); the request may or may not have been applied");
}

/// An error of the handshake; nothing was applied in any case.
caf::error handshake_error(const conn_state& st, const caf::error& e) {
  if (e.category() == error_category()) {
    auto f = to_failure(e);
    if (f.code == errc::unauthorized && st.secret.empty())
      f.detail += " (no secret is configured here: set AUTHSTORE_SECRET or "
                  "--secret-file PATH)";
    return make_error(f);
  }
  if (is_system_error(e, caf::sec::request_timeout))
    return make_error(errc::unreachable,
                      "no answer to the handshake from " + st.endpoint
                        + " within "
                        + std::to_string(st.handshake_timeout.count()) + " ms");
  return make_error(errc::unreachable, "handshake with " + st.endpoint
                                         + " failed: " + caf::to_string(e));
}

void attach(conn_ptr self, router_actor session) {
  auto& st = self->state;
  if (st.session)
    self->demonitor(st.session.address());
  st.session = std::move(session);
  st.session_addr = st.session.address();
  self->monitor(st.session);
  st.alive->store(true);
}

/// Step 1 and 2 of runtime/remote/auth.hpp; replies the session once it is up.
caf::result<router_actor> handshake(conn_ptr self, auth_gate_actor gate) {
  auto& st = self->state;
  auto cn = make_nonce();
  if (!cn)
    return make_error(cn.error());
  auto rp = self->make_response_promise<router_actor>();
  auto version = st.version;
  self->request(gate, st.handshake_timeout, hello_atom::value, version, *cn)
    .then(
      [self, rp, gate, cn = *cn, version](std::string& sn,
                                          std::string& proof) mutable {
        auto& st = self->state;
        if (!server_proved(proof, server_proof(st.secret, version, cn, sn))) {
          failure f{errc::unauthorized,
                    "the server at " + st.endpoint
                      + " did not prove the shared secret: the secrets "
                        "differ"};
          rp.deliver(handshake_error(st, make_error(f)));
          return;
        }
        self
          ->request(gate, st.handshake_timeout, auth_atom::value, sn,
                    client_proof(st.secret, version, sn, cn))
          .then(
            [self, rp](router_actor& session) mutable {
              attach(self, session);
              rp.deliver(std::move(session));
            },
            [self, rp](caf::error& e) mutable {
              rp.deliver(handshake_error(self->state, e));
            });
      },
      [self, rp](caf::error& e) mutable {
        rp.deliver(handshake_error(self->state, e));
      });
  return rp;
}

/// Forwards one call to the session and remembers it until it is answered
/// or failed by a down_msg.
template <class T, class... Ts>
caf::result<T> call(conn_ptr self, Ts&&... xs) {
  auto& st = self->state;
  if (!st.session)
    return make_error(errc::unreachable, "not connected to " + st.endpoint
                                           + "; the request was not sent");
  auto rp = self->make_response_promise<T>();
  auto id = st.next_id++;
  st.pending.emplace(id, [rp](const caf::error& e) mutable { rp.deliver(e); });
  self->request(st.session, st.request_timeout, std::forward<Ts>(xs)...)
    .then(
      [self, rp, id](T& x) mutable {
        if (self->state.pending.erase(id) > 0)
          rp.deliver(std::move(x));
      },
      [self, rp, id](caf::error& e) mutable {
        if (self->state.pending.erase(id) > 0)
          rp.deliver(after_send(self->state, e));
      });
  return rp;
}

void session_down(conn_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (dm.source != st.session_addr)
    return;
  st.session = nullptr;
  st.session_addr = nullptr;
  st.alive->store(false);
  auto err = dm.reason == caf::exit_reason::user_shutdown
               ? make_error(errc::shutting_down,
                            "the server at " + st.endpoint
                              + " closed this session while shutting down; "
                                "the request was not applied")
               : make_error(errc::timeout,
                            "connection to " + st.endpoint + " lost ("
                              + caf::to_string(dm.reason)
                              + ") after the request was sent; it may or "
                                "may not have been applied");
  auto pending = std::move(st.pending);
  st.pending.clear();
  for (auto& kvp : pending)
    kvp.second(err);
}

/// The behavior; see the header for the protocol and lifecycle.
caf::behavior connection(conn_ptr self, remote_connection_config cfg) {
  auto& st = self->state;
  st.alive = std::move(cfg.alive);
  st.secret = std::move(cfg.secret);
  st.version = cfg.version;
  st.request_timeout = cfg.request_timeout;
  st.handshake_timeout = cfg.handshake_timeout;
  st.endpoint = std::move(cfg.endpoint);
  self->set_down_handler([self](caf::down_msg& dm) { session_down(self, dm); });
  return {
    [self](hello_atom, auth_gate_actor& gate) -> caf::result<router_actor> {
      return handshake(self, std::move(gate));
    },
    [self](get_creds_atom a, std::string& sid) -> caf::result<creds_reply> {
      return call<creds_reply>(self, a, std::move(sid));
    },
    [self](get_keys_atom a, std::string& sid, std::string& type,
           std::vector<std::string>& ids) -> caf::result<keys_reply> {
      return call<keys_reply>(self, a, std::move(sid), std::move(type),
                              std::move(ids));
    },
    [self](set_atom a, std::string& sid, patch& p) -> caf::result<uint64_t> {
      return call<uint64_t>(self, a, std::move(sid), std::move(p));
    },
    [self](del_atom a, std::string& sid) -> caf::result<bool> {
      return call<bool>(self, a, std::move(sid));
    },
    [self](del_atom a, std::string& sid,
           lease_token& lease) -> caf::result<delete_reply> {
      return call<delete_reply>(self, a, std::move(sid), std::move(lease));
    },
    [self](list_keys_atom a, std::string& sid,
           std::string& type) -> caf::result<key_ids_reply> {
      return call<key_ids_reply>(self, a, std::move(sid), std::move(type));
    },
    [self](lease_atom a, std::string& sid,
           lease_request& req) -> caf::result<lease_reply> {
      return call<lease_reply>(self, a, std::move(sid), std::move(req));
    },
    [self](release_atom a, std::string& sid,
           std::string& holder) -> caf::result<bool> {
      return call<bool>(self, a, std::move(sid), std::move(holder));
    },
    [self](touch_atom a, std::string& sid) -> caf::result<bool> {
      return call<bool>(self, a, std::move(sid));
    },
    [self](exists_atom a, std::string& sid) -> caf::result<bool> {
      return call<bool>(self, a, std::move(sid));
    },
    [self](read_session_atom a,
           std::string& sid) -> caf::result<session_snapshot> {
      return call<session_snapshot>(self, a, std::move(sid));
    },
    [self](list_sessions_atom a, std::string& cursor,
           uint32_t count) -> caf::result<session_page> {
      return call<session_page>(self, a, std::move(cursor), count);
    },
  };
}

} // namespace

caf::actor spawn_remote_connection(caf::actor_system& sys,
                                   remote_connection_config cfg) {
  return sys.spawn(connection, std::move(cfg));
}

} // namespace authstore
