// rekey_sweeper.cpp -- the background rekey sweep (issue #17).
//
// Lifecycle: spawned by the engine when crypto.rekey-sweep is on (with a
// key file), stopped by an exit from the engine before the Redis actors.
// In-flight requests are answered to a dead actor and dropped; nothing is
// half-written (each write is one Lua call).
//
//   tick -> (sessions left of the last SCAN page, or a new SCAN step:
//   scan_sessions.lua, COUNT per_tick) -> for each session in turn, at most
//   per_tick of them: read it whole (read_session.lua) ->
//   crypto::plan_rekey -> if any value is plaintext or under an old key:
//   apply_patch with the version read as its condition -> next session ->
//   after the tick's last, wait `interval`, tick again. A walk that ends
//   ("0") starts over.
//
// Guarantees: the same as `authstore rekey` (crypto/rekey.hpp): a client
// write between the read and the write wins (version_conflict: the session
// is left for the next walk); several nodes may sweep at once. Rate: at
// most per_tick sessions per tick, one request at a time, and at least
// `interval` between the end of one tick's work and the next tick (SCAN's
// COUNT is only a hint, so a page larger than per_tick is finished over
// the next ticks). A value that does not open (its key is gone, or it was
// damaged) is left as it is and counted as decrypt_failed, once per walk:
// the sweep moves on, it never retries a session within a walk. Every
// other failure (Redis down, a refused write) is logged once per tick and
// the sweep goes on at the next tick: it has no caller to answer.
#include "actors/rekey_sweeper.hpp"

#include <caf/all.hpp>

#include "crypto/rekey.hpp"
#include "observe/log.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

struct sweeper_state {
  rekey_sweeper_config cfg;
  std::string cursor = "0";
  std::vector<std::string> page;
  size_t next = 0;
  /// Sessions begun in the current tick (bounded by cfg.per_tick).
  size_t this_tick = 0;
  static inline const char* name = "authstore.rekey_sweeper";
};

using sweeper_pointer = rekey_sweeper_actor::stateful_pointer<sweeper_state>;

void next_session(sweeper_pointer self);

void schedule(sweeper_pointer self) {
  self->delayed_send(self, self->state.cfg.interval, tick_atom::value);
}

/// Logs `f` and waits for the next tick.
void give_up(sweeper_pointer self, const failure& f) {
  log::write(log::level::warn, "rekey_sweeper", "step_failed",
             {{"reason", std::string{to_string(f.code)}},
              {"detail", f.detail},
              {"next", "the next tick tries again"}});
  schedule(self);
}

/// Sends `req` to the sweep's Redis actor; `then(reply)` on an answer.
template <class F>
void ask(sweeper_pointer self, redis_request req, F then) {
  self
    ->request(self->state.cfg.redis, self->state.cfg.redis_timeout,
              redis_atom::value, std::move(req))
    .then([then](redis_reply& r) mutable { then(r); },
          [self](caf::error& err) { give_up(self, to_failure(err)); });
}

void write_plan(sweeper_pointer self, const std::string& sid,
                crypto::rekey_plan plan) {
  const auto& cfg = self->state.cfg;
  redis_layout::write_options opts;
  opts.now_ms = redis_layout::wall_ms();
  opts.expire_at_ms
    = cfg.hot_ttl.count() == 0
        ? 0
        : opts.now_ms + std::chrono::milliseconds{cfg.hot_ttl}.count();
  opts.track_dirty = cfg.with_cold;
  opts.require_trace = cfg.with_cold;
  auto n = plan.writes.writes.size();
  ask(self, redis_layout::apply_patch(sid, plan.writes, opts),
      [self, n](redis_reply& r) {
        if (redis_layout::untraced(r))
          return next_session(self); // expired meanwhile: nothing to do
        auto v = redis_layout::parse_apply_patch(r);
        if (v) {
          if (auto* c = self->state.cfg.counters)
            c->rekeyed.fetch_add(n, std::memory_order_relaxed);
        } else if (v.error().code != errc::version_conflict) {
          return give_up(self, v.error());
        } // a conflict: a client wrote; the next walk sees the session
        next_session(self);
      });
}

/// Counts `n` values of `sid` that did not open; they stay as they are.
void count_unreadable(sweeper_pointer self, const std::string& sid,
                      uint64_t n) {
  if (auto* c = self->state.cfg.counters)
    c->decrypt_failures.fetch_add(n, std::memory_order_relaxed);
  log::write(log::level::warn, "rekey_sweeper", "decrypt_failed",
             {{"session", sid},
              {"values", std::to_string(n)},
              {"next", "left as they are; the next walk counts them again"}});
}

void rekey_one(sweeper_pointer self, const std::string& sid) {
  const auto& cfg = self->state.cfg;
  ask(self, redis_layout::read_session(sid, cfg.max_fields, cfg.max_bytes),
      [self, sid](redis_reply& r) {
        auto snap = redis_layout::parse_read_session(r);
        if (!snap) {
          if (snap.error().code != errc::value_too_large)
            return give_up(self, snap.error());
          return next_session(self); // too large for one write: skipped
        }
        if (!snap->found)
          return next_session(self);
        auto plan = crypto::plan_rekey(*self->state.cfg.cipher, sid, *snap);
        if (!plan)
          return give_up(self, plan.error());
        if (plan->before.unreadable > 0)
          count_unreadable(self, sid, plan->before.unreadable);
        if (plan->writes.writes.empty())
          return next_session(self);
        write_plan(self, sid, std::move(*plan));
      });
}

void next_session(sweeper_pointer self) {
  auto& st = self->state;
  if (st.next >= st.page.size() || st.this_tick >= st.cfg.per_tick)
    return schedule(self);
  ++st.this_tick;
  rekey_one(self, st.page[st.next++]);
}

void on_tick(sweeper_pointer self) {
  self->state.this_tick = 0;
  if (self->state.next < self->state.page.size())
    return next_session(self); // the rest of the last page first
  ask(self,
      redis_layout::scan_sessions(self->state.cursor, self->state.cfg.per_tick),
      [self](redis_reply& r) {
        auto page = redis_layout::parse_scan_sessions(r);
        if (!page)
          return give_up(self, page.error());
        auto& st = self->state;
        st.cursor = page->cursor; // "0": the next tick starts a new walk
        st.page = std::move(page->ids);
        st.next = 0;
        next_session(self);
      });
}

rekey_sweeper_actor::behavior_type sweeper_impl(sweeper_pointer self,
                                                rekey_sweeper_config cfg) {
  self->state.cfg = std::move(cfg);
  schedule(self);
  return {
    [=](tick_atom) { on_tick(self); },
  };
}

} // namespace

rekey_sweeper_actor spawn_rekey_sweeper(caf::actor_system& sys,
                                        rekey_sweeper_config cfg) {
  return sys.spawn(sweeper_impl, std::move(cfg));
}

} // namespace authstore
