// peer_connector.cpp -- connections to the other nodes (peer_connector.hpp).
#include "runtime/remote/peer_connector.hpp"

#include <atomic>
#include <memory>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#ifdef AUTHSTORE_HAVE_TLS
#include <caf/openssl/manager.hpp>
#endif

#include "messages/timing.hpp"
#include "runtime/remote/connection.hpp"

namespace authstore {

namespace {

using promise = caf::typed_response_promise<caf::actor>;

/// One node's connection: up (alive), or being made (callers wait).
struct peer {
  caf::actor conn;
  std::shared_ptr<std::atomic<bool>> alive;
  std::vector<promise> waiting;
};

struct connector_state {
  peer_connector_config cfg;
  std::unordered_map<std::string, peer> peers;
  static inline const char* name = "authstore.peer_connector";
};

using connector_pointer
  = peer_connector_actor::stateful_pointer<connector_state>;

/// Ends a connect: every waiting caller gets the connection or `err`.
void settle(connector_pointer self, const std::string& node,
            const caf::error& err) {
  auto& st = self->state;
  auto i = st.peers.find(node);
  if (i == st.peers.end())
    return;
  auto waiting = std::move(i->second.waiting);
  i->second.waiting.clear();
  auto conn = i->second.conn;
  if (err) {
    if (conn)
      self->send_exit(conn, caf::exit_reason::user_shutdown);
    st.peers.erase(i);
  }
  for (auto& rp : waiting)
    if (err)
      rp.deliver(err);
    else
      rp.deliver(conn);
}

caf::error unreachable(const std::string& node, const std::string& why) {
  return make_error(errc::unreachable,
                    "cannot forward to node " + node + ": " + why);
}

/// "host:port" or "[v6]:port" -> (host, port); false when malformed.
bool split_address(const std::string& address, std::string& host,
                   uint16_t& port) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size())
    return false;
  host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long p = 0;
  for (auto c : address.substr(colon + 1)) {
    if (c < '0' || c > '9')
      return false;
    p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p > 65535)
      return false;
  }
  port = static_cast<uint16_t>(p);
  return !host.empty() && port != 0;
}

/// Step 3: the handshake, in a new connection actor.
void handshake(connector_pointer self, const std::string& node,
               const std::string& address, auth_gate_actor gate) {
  auto& st = self->state;
  auto& p = st.peers[node];
  p.alive = std::make_shared<std::atomic<bool>>(false);
  remote_connection_config init;
  init.alive = p.alive;
  init.secret = st.cfg.secret;
  init.version = remote_protocol_version;
  init.request_timeout = st.cfg.request_timeout;
  init.handshake_timeout = st.cfg.step_timeout;
  init.endpoint = address;
  p.conn = spawn_remote_connection(self->system(), std::move(init));
  self
    ->request(p.conn, st.cfg.step_timeout * 2 + reply_margin, hello_atom::value,
              std::move(gate))
    .then([self, node](router_actor&) { settle(self, node, caf::error{}); },
          [self, node](caf::error& err) {
            auto f = to_failure(err);
            settle(
              self, node,
              make_error(f.code == errc::unauthorized
                             || f.code == errc::protocol_mismatch
                           ? f.code
                           : errc::unreachable,
                         "cannot forward to node " + node + ": " + f.detail));
          });
}

/// Step 2: the middleman's asynchronous connect, and the interface check.
void connect(connector_pointer self, const std::string& node,
             const std::string& address) {
  auto& st = self->state;
  std::string host;
  uint16_t port = 0;
  if (!split_address(address, host, port))
    return settle(self, node,
                  unreachable(node, "malformed address '" + address + "'"));
  auto mm = self->system().middleman().actor_handle();
#ifdef AUTHSTORE_HAVE_TLS
  if (st.cfg.tls)
    mm = self->system().openssl_manager().actor_handle();
#endif
  self->request(mm, st.cfg.step_timeout, caf::connect_atom::value, host, port)
    .then(
      [self, node, address](caf::node_id&, caf::strong_actor_ptr& ptr,
                            std::set<std::string>& ifs) {
        if (!ptr)
          return settle(
            self, node,
            unreachable(node, "nothing is published at " + address));
        if (!self->system().assignable<auth_gate_actor>(ifs))
          return settle(self, node,
                        make_error(errc::protocol_mismatch,
                                   "node " + node + " at " + address
                                     + " speaks another protocol"));
        handshake(self, node, address,
                  caf::actor_cast<auth_gate_actor>(std::move(ptr)));
      },
      [self, node, address](caf::error& err) {
        settle(self, node,
               unreachable(node, "cannot connect to " + address + ": "
                                   + self->system().render(err)));
      });
}

/// Step 1: the node's address, from the membership as last seen.
void resolve(connector_pointer self, const std::string& node) {
  self
    ->request(self->state.cfg.registrar, self->state.cfg.step_timeout,
              members_atom::value, node)
    .then(
      [self, node](cluster_view& view) {
        for (auto& m : view.members)
          if (m.node_id == node)
            return connect(self, node, m.address);
        settle(self, node, unreachable(node, "not a live member"));
      },
      [self, node](caf::error& err) {
        settle(
          self, node,
          unreachable(node, "membership unknown: " + to_failure(err).detail));
      });
}

caf::result<caf::actor> get_peer(connector_pointer self,
                                 const std::string& node) {
  auto& st = self->state;
  if (!st.cfg.registrar)
    return unreachable(node, "cluster.enabled is off");
  auto& p = st.peers[node];
  if (p.waiting.empty() && p.conn && p.alive && p.alive->load())
    return p.conn;
  auto rp = self->make_response_promise<caf::actor>();
  p.waiting.push_back(rp);
  if (p.waiting.size() == 1) {
    // A dead connection is replaced: its actor answers nothing useful.
    if (p.conn)
      self->send_exit(p.conn, caf::exit_reason::user_shutdown);
    p.conn = nullptr;
    resolve(self, node);
  }
  return rp;
}

peer_connector_actor::behavior_type connector_impl(connector_pointer self,
                                                   peer_connector_config cfg) {
  self->state.cfg = std::move(cfg);
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& kvp : self->state.peers)
      if (kvp.second.conn)
        self->send_exit(kvp.second.conn, caf::exit_reason::user_shutdown);
    self->state.peers.clear();
    self->quit(msg.reason);
  });
  return {
    [=](peer_atom, const std::string& node) { return get_peer(self, node); },
  };
}

} // namespace

peer_connector_actor spawn_peer_connector(caf::actor_system& sys,
                                          peer_connector_config cfg) {
  return sys.spawn(connector_impl, std::move(cfg));
}

} // namespace authstore
