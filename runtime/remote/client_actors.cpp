// client_actors.cpp -- actor-level access to a remote_client
// (client_actors.hpp).
#include "runtime/remote/client_actors.hpp"

#include "runtime/remote/client_impl.hpp"

namespace authstore {

caf::actor_system& remote_client_system(remote_client& c) {
  return c.internals().sys;
}

router_actor remote_client_session(remote_client& c) {
  if (!c.connected())
    return {};
  std::lock_guard<std::mutex> guard{c.internals().session_mx};
  return c.internals().session;
}

} // namespace authstore
