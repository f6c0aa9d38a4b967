// cold_worker_pool.cpp -- N cold workers behind one handle
// (cold_worker_pool.hpp).
//
// Protocol:
//   persist(req), load(sid)  -> delegated to workers[hash(sid) % N]: the
//                               worker answers the supervisor directly, so
//                               the supervisor's timeout and error handling
//                               apply unchanged and the pool adds no wait.
//   worker_init              -> sent to every worker (each with
//                               init_timeout); the answer is (true, "") when
//                               all prepared their store, else (false, why)
//                               of the first that did not, by index.
//
// Ordering: one session's calls always go to one worker, whose mailbox is
// FIFO, so they reach the store in the order the supervisor sent them
// (the store's version guard makes any order safe anyway). Calls of
// different sessions run in parallel, one per worker.
//
// Lifecycle: spawned by the supervisor's factory (at start and after a
// crash), which monitors the pool as its worker. Every worker is linked to
// the pool, without exit handlers on either side: a worker that dies takes
// the pool down (the supervisor fails the calls in flight and restarts a
// whole new pool after its backoff), and an exit message to the pool (the
// supervisor stopping) reaches every worker, which stops after the call in
// progress returns. Calls queued at a worker that stops are bounced by CAF
// with request_receiver_down to the supervisor, which owns the callers.
#include "actors/cold_worker_pool.hpp"

#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <caf/all.hpp>

namespace authstore {

namespace {

struct pool_state {
  std::vector<cold_worker_actor> workers;
  cold_worker_pool_config cfg;
  static inline const char* name = "authstore.cold_worker_pool";
};

using pool_pointer = cold_worker_actor::stateful_pointer<pool_state>;

const cold_worker_actor& worker_of(pool_pointer self, const std::string& sid) {
  auto& ws = self->state.workers;
  return ws[std::hash<std::string>{}(sid) % ws.size()];
}

/// What the workers answered to worker_init so far.
struct init_round {
  size_t pending = 0;
  bool ok = true;
  size_t failed_index = 0;
  std::string detail;

  void record(size_t i, bool good, std::string why) {
    --pending;
    if (good || (!ok && failed_index < i))
      return;
    ok = false;
    failed_index = i;
    detail = "cold worker " + std::to_string(i) + ": " + std::move(why);
  }
};

/// Sends worker_init to every worker; answers once all have.
caf::result<bool, std::string> init_all(pool_pointer self) {
  auto rp = self->make_response_promise<bool, std::string>();
  auto round = std::make_shared<init_round>();
  round->pending = self->state.workers.size();
  auto finish = [round, rp]() mutable {
    if (round->pending == 0)
      rp.deliver(round->ok, round->detail);
  };
  for (size_t i = 0; i < self->state.workers.size(); ++i)
    self
      ->request(self->state.workers[i], self->state.cfg.init_timeout,
                worker_init_atom::value)
      .then(
        [=](bool ok, std::string& why) mutable {
          round->record(i, ok, std::move(why));
          finish();
        },
        [=](caf::error& err) mutable {
          round->record(i, false, to_failure(err).render());
          finish();
        });
  return rp;
}

cold_worker_actor::behavior_type pool_impl(pool_pointer self,
                                           cold_worker_factory make_worker,
                                           cold_worker_pool_config cfg) {
  auto& st = self->state;
  st.cfg = cfg;
  for (size_t i = 0; i < std::max<size_t>(cfg.workers, 1); ++i) {
    auto w = make_worker(self->system());
    if (!w) {
      // As if the worker had died at once: the pool ends (taking the
      // workers it made along) and the supervisor restarts it after its
      // backoff.
      self->quit(caf::sec::runtime_error);
      break;
    }
    self->link_to(w);
    st.workers.push_back(std::move(w));
  }
  return {
    [=](persist_atom a, persist_request& req) {
      auto& w = worker_of(self, req.session_id);
      return self->delegate(w, a, std::move(req));
    },
    [=](load_atom a, std::string& sid) {
      auto& w = worker_of(self, sid);
      return self->delegate(w, a, std::move(sid));
    },
    [=](worker_init_atom) { return init_all(self); },
  };
}

} // namespace

cold_worker_actor spawn_cold_worker_pool(caf::actor_system& sys,
                                         cold_worker_factory make_worker,
                                         cold_worker_pool_config cfg) {
  return sys.spawn(pool_impl, std::move(make_worker), cfg);
}

} // namespace authstore
