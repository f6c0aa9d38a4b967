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
  redis_counters* counters = nullptr;
  /// Connection stats already reported (they are cumulative).
  redis_connection_stats reported;
  static inline const char* name = "authstore.redis";
};

using redis_pointer = redis_actor::stateful_pointer<redis_state>;

/// Adds one flush of `n` requests, and what the connection counted since
/// the last report, to the shared counters.
void count_flush(redis_state& st, size_t n) {
  auto& c = *st.counters;
  const auto& now = st.conn->stats();
  c.round_trips.fetch_add(now.round_trips - st.reported.round_trips,
                          std::memory_order_relaxed);
  c.commands.fetch_add(now.commands - st.reported.commands,
                       std::memory_order_relaxed);
  c.reconnects.fetch_add(now.reconnects - st.reported.reconnects,
                         std::memory_order_relaxed);
  c.script_reloads.fetch_add(now.script_reloads - st.reported.script_reloads,
                             std::memory_order_relaxed);
  st.reported = now;
  c.batch_sizes.record(n);
  c.queued.fetch_sub(static_cast<int64_t>(n), std::memory_order_relaxed);
}

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
    if (results[i]) {
      promise.deliver(std::move(*results[i]));
    } else {
      if (st.counters)
        st.counters->errors[errc_slot(results[i].error().code)].fetch_add(
          1, std::memory_order_relaxed);
      promise.deliver(make_error(results[i].error()));
    }
  }
  if (st.counters)
    count_flush(st, n);
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
  self->state.counters = cfg.counters;
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // Nothing queued is dropped silently on exit: each waiting caller gets
    // shutting_down (nothing of it was sent to Redis).
    for (auto& p : self->state.queue)
      p.promise.deliver(
        make_error(errc::shutting_down, "redis actor stopped before sending"));
    if (self->state.counters)
      self->state.counters->queued.fetch_sub(
        static_cast<int64_t>(self->state.queue.size()));
    self->state.queue.clear();
    self->quit(msg.reason);
  });
  return {
    [=](redis_atom, redis_request& req) -> caf::result<redis_reply> {
      auto promise = self->make_response_promise<redis_reply>();
      self->state.queue.push_back({std::move(req), promise});
      if (self->state.counters)
        self->state.counters->queued.fetch_add(1, std::memory_order_relaxed);
      if (!self->state.flush_scheduled) {
        self->state.flush_scheduled = true;
        self->send(self, flush_atom::value);
      }
      return promise;
    },
    [=](flush_atom) { flush(self); },
  };
}

} // namespace

redis_actor spawn_redis_actor(caf::actor_system& sys, redis_actor_config cfg) {
  return sys.spawn<caf::detached>(redis_impl, std::move(cfg));
}

} // namespace authstore
