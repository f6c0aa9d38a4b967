// persist_round.hpp -- one round of the outbox, run inside the actor that
// owns it: read what is dirty, persist it, clear what was persisted.
//
// Why one helper: the live path (session_actor.cpp, right after a write)
// and the reconciler (outbox_reconciler.cpp, for sessions left dirty) run
// the same chain; only their policies differ (one chain per session and a
// global cap there; claims, backoff and quarantine here). Each keeps its
// policy and calls this:
//
//   gate   the breaker refuses every call?  end: breaker_open (nothing
//            (cold_gate.hpp, when set)      read, nothing sent, every mark
//                                           kept: issue #15)
//   read   read_dirty(sid)                 (live: no claim)
//          | claim_dirty(sid, owner, lease) (reconciler)
//            -> claimed by another owner?   end: claimed_elsewhere
//            -> no marks?                   end: clean (with a claim, first
//                                           clear_dirty: it drops the index
//                                           entry and releases the claim)
//   persist  cold supervisor persist(V)    (idempotent, never regresses)
//   clear    clear_dirty(V, owner)         compare-and-clear: marks <= V go
//            -> end: persisted, with the marks cleared and left
//   any error or unreadable reply          -> end: failed at that step
//
// Guarantees: every step is a request with a finite timeout and an error
// handler, sent from `self` and continued on `self`'s context (never
// blocks, never runs after the actor died: CAF drops pending handlers with
// the actor). `done` is called exactly once. A failed round leaves every
// mark in place (nothing is cleared before the cold store confirmed V).
// Success-side counters (persists, clean reads, marks cleared, latency by
// path) and the debug line "persisted" are written here; failures are
// counted by the caller, whose policy decides what a failure is.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "messages/cold_gate.hpp"
#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"
#include "observe/log.hpp"
#include "redis/layout.hpp"

namespace authstore {

/// Where a round runs and how long each step may take.
struct persist_round_config {
  redis_actor redis;
  /// The cold supervisor.
  cold_actor cold;
  /// Bound on each Redis step and on the persist call.
  std::chrono::milliseconds redis_timeout{3000};
  std::chrono::milliseconds cold_timeout{4000};
  /// Hot TTL a session gets once the round left it clean (0 = none).
  std::chrono::seconds hot_ttl{0};
  /// The reconciler's claim token, held for `lease`; empty on the live
  /// path, which takes no claim.
  std::string owner;
  std::chrono::milliseconds lease{0};
  /// Which path's counters the round writes (counters may be null).
  persist_path path = persist_path::live;
  outbox_counters* counters = nullptr;
  /// Log component of the "persisted" line.
  const char* component = "session";
  /// The supervisor's published breaker (may be null: always read). While
  /// it refuses every call, a round reads nothing: the dirty set would be
  /// read from Redis only to be refused.
  const cold_gate* gate = nullptr;
};

/// The step a round failed at.
enum class persist_step : uint8_t { read, persist, clear };

/// How a round ended.
enum class persist_end : uint8_t {
  /// The cold store confirmed `version`; marks <= version were cleared.
  persisted,
  /// Nothing was dirty (with a claim: the index entry is gone, the claim
  /// released).
  clean,
  /// Another reconciler holds the session's claim; nothing was done.
  claimed_elsewhere,
  /// The breaker refuses every call (cfg.gate); nothing was read or sent,
  /// every mark is still there.
  breaker_open,
  /// `error` at `step`; every mark is still there.
  failed,
};

/// What the caller's policy gets.
struct persist_outcome {
  persist_end end = persist_end::failed;
  persist_step step = persist_step::read;
  /// The version the round read (0 before the read answered).
  uint64_t version = 0;
  uint64_t marks_cleared = 0;
  /// Marks written after the read: the session is still dirty.
  uint64_t marks_left = 0;
  failure error;
};

namespace detail {

template <class Done>
struct persist_round_state {
  persist_round_config cfg;
  std::string sid;
  Done done;
  std::chrono::steady_clock::time_point start;
  persist_outcome outcome;

  void finish(persist_end end) {
    outcome.end = end;
    done(outcome);
  }

  void fail(persist_step step, failure f) {
    outcome.step = step;
    outcome.error = std::move(f);
    finish(persist_end::failed);
  }

  /// The clear answered: count what the round achieved and end it.
  void cleared(const redis_layout::clear_result& c, bool persisted) {
    outcome.marks_cleared = c.cleared;
    outcome.marks_left = c.remaining;
    auto path = static_cast<size_t>(cfg.path);
    if (persisted)
      log::write(log::level::debug, cfg.component, "persisted",
                 {{"session", sid},
                  {"version", std::to_string(outcome.version)},
                  {"marks_cleared", std::to_string(c.cleared)},
                  {"marks_left", std::to_string(c.remaining)}});
    if (auto* k = cfg.counters) {
      if (persisted) {
        k->persists[path].fetch_add(1, std::memory_order_relaxed);
        k->latency[path].record(std::chrono::steady_clock::now() - start);
      } else {
        k->clean_reads[path].fetch_add(1, std::memory_order_relaxed);
      }
      k->marks_cleared.fetch_add(c.cleared, std::memory_order_relaxed);
    }
    finish(persisted ? persist_end::persisted : persist_end::clean);
  }
};

template <class Self, class State>
void persist_clear(Self self, std::shared_ptr<State> st, bool persisted) {
  auto& cfg = st->cfg;
  self
    ->request(
      cfg.redis, cfg.redis_timeout, redis_atom::value,
      redis_layout::clear_dirty(st->sid, st->outcome.version, cfg.owner,
                                redis_layout::wall_ms(),
                                std::chrono::milliseconds{cfg.hot_ttl}.count()))
    .then(
      [st, persisted](redis_reply& reply) {
        auto c = redis_layout::parse_clear_dirty(reply);
        if (!c)
          return st->fail(persist_step::clear, c.error());
        st->cleared(*c, persisted);
      },
      [st](caf::error& err) {
        st->fail(persist_step::clear, to_failure(err));
      });
}

template <class Self, class State>
void persist_send(Self self, std::shared_ptr<State> st, persist_request req) {
  self
    ->request(st->cfg.cold, st->cfg.cold_timeout, persist_atom::value,
              std::move(req))
    .then([self, st](uint64_t) { persist_clear(self, st, true); },
          [st](caf::error& err) {
            st->fail(persist_step::persist, to_failure(err));
          });
}

} // namespace detail

/// Runs one round for `sid` from `self`; calls `done(const
/// persist_outcome&)` exactly once, on `self`'s context.
template <class Self, class Done>
void run_persist_round(Self self, const persist_round_config& cfg,
                       std::string sid, Done done) {
  using state = detail::persist_round_state<Done>;
  if (cfg.gate && cfg.gate->refuses(std::chrono::steady_clock::now())) {
    if (auto* k = cfg.counters)
      k->breaker_open[static_cast<size_t>(cfg.path)].fetch_add(
        1, std::memory_order_relaxed);
    persist_outcome o;
    o.end = persist_end::breaker_open;
    done(o);
    return;
  }
  auto st = std::make_shared<state>(state{cfg, std::move(sid), std::move(done),
                                          std::chrono::steady_clock::now(),
                                          persist_outcome{}});
  auto read = st->cfg.owner.empty()
                ? redis_layout::read_dirty(st->sid)
                : redis_layout::claim_dirty(st->sid, st->cfg.owner,
                                            st->cfg.lease.count());
  self
    ->request(st->cfg.redis, st->cfg.redis_timeout, redis_atom::value,
              std::move(read))
    .then(
      [self, st](redis_reply& reply) {
        auto r = redis_layout::parse_read_dirty(reply, st->sid);
        if (!r)
          return st->fail(persist_step::read, r.error());
        if (r->claimed_elsewhere)
          return st->finish(persist_end::claimed_elsewhere);
        st->outcome.version = r->request.version;
        if (r->marks > 0)
          return detail::persist_send(self, st, std::move(r->request));
        if (!st->cfg.owner.empty()) // drop the index entry, release
          return detail::persist_clear(self, st, false);
        if (auto* k = st->cfg.counters)
          k->clean_reads[static_cast<size_t>(st->cfg.path)].fetch_add(
            1, std::memory_order_relaxed);
        st->finish(persist_end::clean);
      },
      [st](caf::error& err) { st->fail(persist_step::read, to_failure(err)); });
}

} // namespace authstore
