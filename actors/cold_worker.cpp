// cold_worker.cpp -- one cold_store on its own thread, as an actor.
//
// Why detached: every cold_store call blocks for a network round trip (up
// to the store's timeouts, plus bounded retries), and a blocked scheduler
// thread stalls unrelated actors (CAF-0.17-GUIDE §6). A detached actor has
// its own thread and keeps the event-based API.
//
// Guarantees:
// - The store is opened, used and destroyed on the worker's thread: the
//   opener runs inside the first message handler (not in the behaviour
//   function, whose thread CAF does not promise), and the state that owns
//   the store is destroyed in the actor's on_exit (stateful_actor destroys
//   its state there), in the actor's own context.
// - Calls run one at a time in arrival order (one client, one thread), so a
//   session's persists reach the store in the order the supervisor
//   forwarded them; the store's version guard makes any order safe anyway.
// - No exception escapes a handler: each call is wrapped, and an exception
//   becomes errc::internal for that call only. An escaping exception would
//   kill the actor; the supervisor would cope (callers get errors, the
//   worker restarts), but one bad call must not cost everyone in the queue.
// - Failure details are the store's (operation, kind, codes): never values,
//   session ids or server text; the exception texts below name only the
//   operation and the backend.
//
// Lifecycle: spawned by the cold_supervisor's factory (at start and after a
// crash), which sends worker_init first so that the store is prepared
// (indexes, schema check) before the first data call is served, or the
// failure is reported in the supervisor's status. Stops on an exit message
// from the supervisor, after the call in progress returns; requests still
// queued are bounced by CAF with request_receiver_down, which the supervisor
// turns into errors for its callers.
#include "actors/cold_worker.hpp"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <caf/all.hpp>

namespace authstore {

namespace {

struct cold_worker_state {
  /// Runs once, on the first message.
  cold_store_opener open;
  /// Null before the first message and when open failed.
  std::unique_ptr<cold_store> store;
  /// Set once open ran and failed: every call's answer.
  std::optional<failure> open_error;
  static inline const char* name = "authstore.cold_worker";
};

using cold_worker_pointer
  = cold_worker_actor::stateful_pointer<cold_worker_state>;

/// "the cold worker (mongodb)", for exception texts.
std::string who(const cold_worker_state& st) {
  std::string x = "the cold worker";
  if (st.store) {
    x += " (";
    x += st.store->backend();
    x += ")";
  }
  return x;
}

/// The store, opened on first use; null when open failed (then
/// st.open_error says why).
cold_store* store_of(cold_worker_pointer self) {
  auto& st = self->state;
  if (st.store || st.open_error)
    return st.store.get();
  try {
    auto store = st.open ? st.open()
                         : outcome<std::unique_ptr<cold_store>>{
                           errc::internal, "open: the cold worker has no "
                                           "opener"};
    if (store && *store)
      st.store = std::move(*store);
    else if (store)
      st.open_error = failure{errc::internal, "open: the opener returned no "
                                              "store"};
    else
      st.open_error = store.error();
  } catch (...) {
    st.open_error = failure{errc::internal, "open: unexpected exception in "
                                            "the cold worker"};
  }
  st.open = nullptr; // whatever it captured (a URI) is not needed any more
  return st.store.get();
}

/// Runs `call` on the store and turns its outcome (or an exception) into
/// the caller's result. `op` names the operation in error details.
template <class T, class F>
caf::result<T> run(cold_worker_pointer self, const char* op, F call) {
  auto* store = store_of(self);
  if (!store)
    return make_error(*self->state.open_error);
  try {
    outcome<T> r = call(*store);
    if (r)
      return std::move(*r);
    return make_error(r.error());
  } catch (const std::exception&) {
    // what() of a foreign exception may quote data; the type of failure and
    // the operation are enough to find it.
    return make_error(errc::internal, std::string{op}
                                        + ": unexpected exception in "
                                        + who(self->state));
  } catch (...) {
    return make_error(errc::internal,
                      std::string{op}
                        + ": unexpected non-standard exception in "
                        + who(self->state));
  }
}

/// Prepares the store; (true, "") or (false, why). Never throws.
std::tuple<bool, std::string> prepare(cold_worker_pointer self) {
  auto* store = store_of(self);
  if (!store)
    return {false, self->state.open_error->render()};
  try {
    auto r = store->prepare();
    if (r)
      return {true, std::string{}};
    return {false, r.error().render()};
  } catch (...) {
    return {false, "prepare: unexpected exception in " + who(self->state)};
  }
}

cold_worker_actor::behavior_type cold_worker_impl(cold_worker_pointer self,
                                                  cold_store_opener open) {
  self->state.open = std::move(open);
  return {
    [=](persist_atom, const persist_request& req) {
      return run<uint64_t>(self, "persist",
                           [&](cold_store& s) { return s.persist(req); });
    },
    [=](load_atom, const std::string& sid) {
      return run<session_snapshot>(self, "load",
                                   [&](cold_store& s) { return s.load(sid); });
    },
    [=](worker_init_atom) { return prepare(self); },
  };
}

} // namespace

cold_worker_actor spawn_cold_worker(caf::actor_system& sys,
                                    cold_store_opener open) {
  return sys.spawn<caf::detached>(cold_worker_impl, std::move(open));
}

} // namespace authstore
