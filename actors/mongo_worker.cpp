// mongo_worker.cpp -- one mongo_store on its own thread, as an actor.
//
// Why detached: every mongo_store call blocks for a network round trip (up
// to the URI's timeouts, plus bounded retries), and a blocked scheduler
// thread stalls unrelated actors (CAF-0.17-GUIDE §6). A detached actor has
// its own thread and keeps the event-based API.
//
// Guarantees:
// - Calls run one at a time in arrival order (one client, one thread), so a
//   session's persists reach MongoDB in the order the supervisor forwarded
//   them; mongo_store's version guard makes any order safe anyway.
// - No exception escapes a handler: each call is wrapped, and an exception
//   becomes errc::internal for that call only. An escaping exception would
//   kill the actor; the supervisor would cope (callers get errors, the
//   worker restarts), but one bad call must not cost everyone in the queue.
// - Failure details are mongo_store's (operation, kind, codes): never values,
//   session ids or server text.
//
// Lifecycle: spawned by the cold_supervisor (at start and after a crash),
// which sends worker_init first so that the indexes are created before the
// first data call is served (or the failure is reported to the supervisor's
// status). Stops on an exit message from the supervisor, after the call in
// progress returns; requests still queued are bounced by CAF with
// request_receiver_down, which the supervisor turns into errors for its
// callers.
#include "actors/mongo_worker.hpp"

#include <exception>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

namespace authstore {

namespace {

struct mongo_worker_state {
  /// Null when open() failed; then every call answers `open_error`.
  std::unique_ptr<mongo_store> store;
  failure open_error;
  static inline const char* name = "authstore.mongo_worker";
};

using mongo_worker_pointer
  = cold_worker_actor::stateful_pointer<mongo_worker_state>;

/// Runs `call` on the store and turns its outcome (or an exception) into
/// the caller's result. `op` names the operation in error details.
template <class T, class F>
caf::result<T> run(mongo_worker_pointer self, const char* op, F call) {
  auto& st = self->state;
  if (!st.store)
    return make_error(st.open_error);
  try {
    outcome<T> r = call(*st.store);
    if (r)
      return std::move(*r);
    return make_error(r.error());
  } catch (const std::exception&) {
    // what() of a foreign exception may quote data; the type of failure and
    // the operation are enough to find it.
    return make_error(errc::internal, std::string{op}
                                        + ": unexpected exception in the "
                                          "mongo worker");
  } catch (...) {
    return make_error(errc::internal, std::string{op}
                                        + ": unexpected non-standard exception "
                                          "in the mongo worker");
  }
}

/// Creates the indexes; (true, "") or (false, why). Never throws.
std::tuple<bool, std::string> init_indexes(mongo_worker_pointer self) {
  auto& st = self->state;
  if (!st.store)
    return {false, st.open_error.render()};
  try {
    auto r = st.store->ensure_indexes();
    if (r)
      return {true, std::string{}};
    return {false, r.error().render()};
  } catch (...) {
    return {false, "ensure indexes: unexpected exception in the mongo worker"};
  }
}

cold_worker_actor::behavior_type mongo_worker_impl(mongo_worker_pointer self,
                                                   mongo_store_config cfg) {
  // open() parses the URI and creates the client; it does not connect, so
  // this is cheap wherever the behaviour is built.
  try {
    auto store = mongo_store::open(cfg);
    if (store)
      self->state.store = std::move(*store);
    else
      self->state.open_error = store.error();
  } catch (...) {
    self->state.open_error
      = {errc::internal, "open: unexpected exception in the mongo worker"};
  }
  return {
    [=](persist_atom, const persist_request& req) {
      return run<uint64_t>(self, "persist",
                           [&](mongo_store& s) { return s.persist(req); });
    },
    [=](load_atom, const std::string& sid) {
      return run<session_snapshot>(self, "load",
                                   [&](mongo_store& s) { return s.load(sid); });
    },
    [=](load_fields_atom, const std::string& sid,
        const std::vector<std::string>& fields) {
      return run<session_snapshot>(self, "load fields", [&](mongo_store& s) {
        return s.load_fields(sid, fields);
      });
    },
    [=](erase_atom, const std::string& sid) {
      return run<bool>(self, "erase",
                       [&](mongo_store& s) { return s.erase(sid); });
    },
    [=](worker_init_atom) { return init_indexes(self); },
  };
}

} // namespace

cold_worker_actor spawn_mongo_worker(caf::actor_system& sys,
                                     mongo_store_config cfg) {
  return sys.spawn<caf::detached>(mongo_worker_impl, std::move(cfg));
}

} // namespace authstore
