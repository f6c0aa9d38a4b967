// redis_actor.cpp -- one hiredis connection as a detached actor, with group
// commit.
//
// Why detached: hiredis calls block, and blocking a CAF scheduler thread
// stalls unrelated actors (CAF-0.17-GUIDE §6). A detached actor has its own
// thread and keeps the event-based API.
//
// Group commit: a request is only queued; the first request of a batch also
// sends `flush` to self. Because the mailbox is FIFO, every request that
// arrived before that flush is queued when it runs, so one pipeline (one
// round trip) carries all of them -- across sessions. Requests arriving while
// a pipeline is on the wire form the next batch.
//
// Ordering: requests are executed in arrival order on one connection, so
// the writes of one session (whose actor always uses the same pool member)
// are applied in the order that session sent them.
//
// Lifecycle: spawned by the wiring, stopped by an exit message from it; a
// pending batch is failed with shutting_down when the actor exits (the
// promises are answered by the exit handler, never dropped).
#include "actors/redis_actor.hpp"

#include <caf/all.hpp>

namespace authstore {

namespace {

struct pending_request {
  redis_request request;
  caf::typed_response_promise<redis_reply> promise;
};

struct redis_state {
  redis_state() = default;
  std::unique_ptr<redis_connection> conn;
  std::vector<pending_request> queue;
  bool flush_scheduled = false;
  size_t max_batch = 512;
  static inline const char* name = "authstore.redis";
};

using redis_pointer = redis_actor::stateful_pointer<redis_state>;

/// Sends up to max_batch queued requests as one pipeline and answers them.
void flush(redis_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.queue.empty())
    return;
  auto n = std::min(st.queue.size(), st.max_batch);
  std::vector<const redis_request*> batch;
  batch.reserve(n);
  for (size_t i = 0; i < n; ++i)
    batch.push_back(&st.queue[i].request);
  auto results = st.conn->execute(batch);
  for (size_t i = 0; i < n; ++i) {
    auto& promise = st.queue[i].promise;
    if (results[i])
      promise.deliver(std::move(*results[i]));
    else
      promise.deliver(make_error(results[i].error()));
  }
  st.queue.erase(st.queue.begin(), st.queue.begin() + n);
  if (!st.queue.empty()) {
    st.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

redis_actor::behavior_type redis_impl(redis_pointer self,
                                      redis_actor_config cfg) {
  self->state.conn = std::make_unique<redis_connection>(cfg.connection);
  self->state.max_batch = cfg.max_batch;
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Nothing queued is dropped silently on exit: each waiting caller gets
    // shutting_down (nothing of it was sent to Redis).
    for (auto& p : self->state.queue)
      p.promise.deliver(make_error(errc::shutting_down,
                                   "redis actor stopped before sending"));
    self->state.queue.clear();
    self->quit(msg.reason);
  });
  return {
    [=](redis_atom, redis_request& req) -> caf::result<redis_reply> {
      auto promise = self->make_response_promise<redis_reply>();
      self->state.queue.push_back({std::move(req), promise});
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return promise;
    },
    [=](stats_atom) {
      const auto& s = self->state.conn->stats();
      return std::make_tuple(s.round_trips, s.commands);
    },
    [=](flush_atom) { flush(self); },
  };
}

} // namespace

redis_actor spawn_redis_actor(caf::actor_system& sys, redis_actor_config cfg) {
  return sys.spawn<caf::detached>(redis_impl, std::move(cfg));
}

} // namespace authstore
