// outbox_reconciler.cpp -- persists sessions left dirty in Redis.
//
// Why: the live persist path (session_actor.cpp) runs right after each
// write, but it can fail (cold store down, breaker open), the process can
// crash between the Redis write and the persist, and a passivated session
// has no actor left to retry. Every acknowledged write left a dirty mark in
// the same Lua script that applied it (redis_layout.cpp), and the session in
// the index `as:dirty`; this actor walks that index until it is empty.
// Invariant 1: nothing acknowledged is dropped -- a session leaves the index
// only when its marks were cleared after the cold store confirmed them.
//
// One tick (every `interval`, the first at once, so a restart drains):
//
//   outbox_stats        -> backlog gauges (sessions, fields, oldest, parked)
//   sweep_dirty step    -> sessions with marks but no index entry re-indexed
//   breaker             -> refusing every call? skip persisting (the
//                          supervisor's gate, cold_gate.hpp, when set: also
//                          half-open with every probe admitted; else a
//                          cold_status request: open with no probe due)
//   dirty_candidates    -> sessions dirty for longer than `grace`, oldest
//                          first, minus those in flight or backing off;
//                          while the breaker probes, at most as many as it
//                          has probe slots (the rest would be refused after
//                          their whole dirty set was claimed and read)
//   per session, at most max_in_flight at once:
//     claim_dirty(token, lease)   claimed by another node? leave it to them
//       -> persist(V) via the cold supervisor (idempotent)
//       -> clear_dirty(V, token)  compare-and-clear, releases the claim
//     failure: count by reason, back off (exponential, jittered), and keep
//              the claim for the backoff so other nodes back off too;
//              the entry stays in the index
//     malformed outbox or refused as invalid: quarantine (index entry moved
//              to `as:quarantine`, marks and values kept), log, count
//
// The claim -> persist -> clear chain itself is persist_round.hpp's (the
// live path runs the same one); this file holds the reconciler's policy:
// what to take, claims, backoff and quarantine.
//
// Several nodes: claims (SET NX PX with an owner token) keep two
// reconcilers off one session; a claim outlives no crash by more than its
// lease; persists are idempotent (mongo_store.hpp), so a duplicate after an
// expired claim is harmless. The actor never blocks: every step is a
// request with a timeout and a `.then`.
#include "actors/outbox_reconciler.hpp"

#include <algorithm>
#include <cstdio>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <caf/all.hpp>

#include "actors/persist_round.hpp"
#include "messages/backoff.hpp"
#include "messages/session_id.hpp"
#include "observe/log.hpp"
#include "observe/log_limit.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

using clock = std::chrono::steady_clock;

/// A session's failures in a row (of `reconciler_state::retry`) and when it
/// may be taken again.
struct backoff_entry {
  uint32_t failures = 0;
  clock::time_point next_at{};
};

struct reconciler_state {
  reconciler_config cfg;
  /// How every round runs (persist_round.hpp): claims with cfg.owner.
  persist_round_config round;
  /// Per-session backoff: cfg.backoff_base doubling (at most 20 times) to
  /// cfg.backoff_max, jittered x [0.5, 1.5) so that sessions that failed
  /// together (a cold-store outage) do not all come back in one tick.
  backoff_policy retry;
  std::unordered_set<std::string> in_flight;
  std::unordered_map<std::string, backoff_entry> backoff;
  /// Index entries to skip next time: every one read last time was busy.
  size_t offset = 0;
  /// One of each at a time, however slow Redis is.
  bool stats_pending = false;
  bool sweep_pending = false;
  bool scan_pending = false;
  /// The last page had eligible sessions that found no room: scan again as
  /// soon as a round ends instead of waiting for the next tick.
  bool more_waiting = false;
  /// The breaker's state at the last tick (no rescans while it is open).
  bool cold_open = false;
  std::string sweep_cursor = "0";
  std::minstd_rand rng{std::random_device{}()};
  static inline const char* name = "authstore.outbox_reconciler";
};

using reconciler_pointer = reconciler_actor::stateful_pointer<reconciler_state>;

outbox_counters* counters(reconciler_pointer self) {
  return self->state.cfg.counters;
}

constexpr auto reconciler_path = static_cast<size_t>(persist_path::reconciler);

template <class F>
void ask_redis(reconciler_pointer self, redis_request req, F on_reply,
               std::function<void(const failure&)> on_error) {
  self
    ->request(self->state.cfg.redis, self->state.cfg.redis_timeout,
              redis_atom::value, std::move(req))
    .then([on_reply](redis_reply& r) mutable { on_reply(r); },
          [on_error](caf::error& err) { on_error(to_failure(err)); });
}

void scan(reconciler_pointer self);

/// Rounds the breaker would admit now (cold_gate::unlimited: closed, or no
/// gate to ask).
int32_t cold_admits(reconciler_pointer self) {
  auto* gate = self->state.cfg.gate;
  return gate ? gate->admits(clock::now()) : cold_gate::unlimited;
}

void done(reconciler_pointer self, const std::string& sid) {
  auto& st = self->state;
  st.in_flight.erase(sid);
  if (st.more_waiting && !st.cold_open && !st.scan_pending
      && cold_admits(self) != 0)
    scan(self);
}

/// A failed round: count, back off, hold the claim for the backoff.
void failed(reconciler_pointer self, const std::string& sid, const failure& f) {
  auto& st = self->state;
  if (auto* c = counters(self))
    c->failures[reconciler_path][errc_slot(f.code)].fetch_add(
      1, std::memory_order_relaxed);
  auto& b = st.backoff[sid];
  auto jittered = st.retry.wait_from(b.failures, st.rng);
  b.failures += 1;
  b.next_at = clock::now() + jittered;
  // One per failed round: limited over all sessions (log_limit.hpp).
  static log::limiter lines;
  lines.write(log::level::warn, "outbox_reconciler", "persist_failed",
              {{"session", sid},
               {"reason", std::string{to_string(f.code)}},
               {"detail", f.detail},
               {"failures", std::to_string(b.failures)},
               {"retry_in_ms", std::to_string(jittered.count())}});
  // Best effort: if it fails the claim simply expires with its lease.
  ask_redis(
    self, redis_layout::hold_claim(sid, st.cfg.owner, jittered.count()),
    [](const redis_reply&) {}, [](const failure&) {});
  done(self, sid);
}

/// Parks a session whose outbox cannot be persisted as it is.
void quarantine(reconciler_pointer self, const std::string& sid,
                const failure& f) {
  log::write(log::level::error, "outbox_reconciler", "quarantine",
             {{"session", sid},
              {"reason", std::string{to_string(f.code)}},
              {"detail", f.detail},
              {"action", "inspect as:{sid}:o, then move the id from "
                         "as:quarantine back to as:dirty"}});
  if (auto* c = counters(self))
    c->quarantined.fetch_add(1, std::memory_order_relaxed);
  for (auto& req : redis_layout::quarantine(sid, redis_layout::wall_ms()))
    ask_redis(
      self, std::move(req), [](const redis_reply&) {},
      [sid](const failure& e) {
        log::write(log::level::error, "outbox_reconciler", "quarantine_failed",
                   {{"session", sid}, {"detail", e.detail}});
      });
  ask_redis(
    self, redis_layout::hold_claim(sid, self->state.cfg.owner, 0),
    [](const redis_reply&) {}, [](const failure&) {});
  self->state.backoff.erase(sid);
  done(self, sid);
}

/// The reconciler's policy on a finished round (persist_round.hpp).
void round_ended(reconciler_pointer self, const std::string& sid,
                 const persist_outcome& o) {
  switch (o.end) {
    case persist_end::persisted:
    case persist_end::clean:
      self->state.backoff.erase(sid);
      return done(self, sid);
    case persist_end::claimed_elsewhere:
      if (auto* c = counters(self))
        c->claims_lost.fetch_add(1, std::memory_order_relaxed);
      return done(self, sid);
    case persist_end::breaker_open: // nothing claimed: no backoff either
      return done(self, sid);
    case persist_end::failed:
      // A malformed outbox, or one the cold store refused as malformed,
      // never persists as it is; a failed clear is Redis's trouble.
      if (o.step != persist_step::clear && is_malformed(o.error.code))
        return quarantine(self, sid, o.error);
      return failed(self, sid, o.error);
  }
}

/// One session: claim and read, persist, clear.
void reconcile(reconciler_pointer self, const std::string& sid) {
  self->state.in_flight.insert(sid);
  if (auto ok = validate_session_id(sid); !ok)
    return quarantine(self, sid, ok.error());
  run_persist_round(
    self, self->state.round, sid,
    [self, sid](const persist_outcome& o) { round_ended(self, sid, o); });
}

void update_backlog(reconciler_pointer self) {
  if (self->state.stats_pending)
    return;
  self->state.stats_pending = true;
  ask_redis(
    self, redis_layout::outbox_stats(),
    [self](const redis_reply& r) {
      self->state.stats_pending = false;
      auto x = redis_layout::parse_outbox_stats(r, redis_layout::wall_ms());
      auto* c = counters(self);
      if (!x || !c)
        return;
      c->backlog_sessions.store(static_cast<int64_t>(x->sessions));
      c->backlog_fields.store(static_cast<int64_t>(x->fields));
      c->oldest_age_ms.store(x->oldest_age_ms);
      c->quarantine_size.store(static_cast<int64_t>(x->quarantined));
    },
    [self](const failure&) { self->state.stats_pending = false; });
}

void sweep_step(reconciler_pointer self) {
  auto& st = self->state;
  if (st.sweep_pending || st.cfg.sweep_count == 0)
    return;
  st.sweep_pending = true;
  ask_redis(
    self,
    redis_layout::sweep_dirty(st.sweep_cursor, st.cfg.sweep_count,
                              redis_layout::wall_ms()),
    [self](const redis_reply& r) {
      self->state.sweep_pending = false;
      auto x = redis_layout::parse_sweep_dirty(r);
      if (!x)
        return;
      self->state.sweep_cursor = x->cursor;
      if (x->reindexed > 0) {
        if (auto* c = counters(self))
          c->reindexed.fetch_add(x->reindexed, std::memory_order_relaxed);
        log::write(log::level::warn, "outbox_reconciler", "reindexed",
                   {{"sessions", std::to_string(x->reindexed)},
                    {"detail", "dirty sessions were missing from the index"}});
      }
    },
    [self](const failure&) { self->state.sweep_pending = false; });
}

/// Reads a page of the index and starts rounds for the eligible sessions.
void scan(reconciler_pointer self) {
  auto& st = self->state;
  size_t room = st.cfg.max_in_flight
                - std::min(st.cfg.max_in_flight, st.in_flight.size());
  if (st.scan_pending || room == 0)
    return;
  st.scan_pending = true;
  auto req = redis_layout::dirty_candidates(
    redis_layout::wall_ms() - st.cfg.grace.count(), st.offset, st.cfg.page);
  ask_redis(
    self, std::move(req),
    [self](const redis_reply& r) {
      auto& st = self->state;
      st.scan_pending = false;
      auto sids = redis_layout::parse_dirty_candidates(r);
      if (!sids)
        return;
      auto now = clock::now();
      size_t started = 0;
      // While the breaker probes, only as many rounds in flight as it has
      // probe slots: the others would be refused after their claim.
      auto admits = cold_admits(self);
      if (admits == 0)
        return;
      auto cap
        = admits == cold_gate::unlimited
            ? st.cfg.max_in_flight
            : std::min(st.cfg.max_in_flight, static_cast<size_t>(admits));
      // Oldest first by page, shuffled within it: reconcilers on several
      // nodes then work on different sessions instead of all contending
      // for the claims of the same oldest few.
      auto page = *sids;
      std::shuffle(page.begin(), page.end(), st.rng);
      st.more_waiting = false;
      for (const auto& sid : page) {
        if (st.in_flight.size() >= cap) {
          st.more_waiting = true;
          break;
        }
        if (st.in_flight.count(sid) > 0)
          continue;
        if (auto b = st.backoff.find(sid);
            b != st.backoff.end() && b->second.next_at > now)
          continue;
        ++started;
        reconcile(self, sid);
      }
      // A full page of busy entries: look further next time; otherwise the
      // oldest entries come first again.
      st.offset = (started == 0 && sids->size() == st.cfg.page)
                    ? st.offset + sids->size()
                    : 0;
    },
    [self](const failure&) { self->state.scan_pending = false; });
}

/// A tick learnt whether the breaker refuses every call: skip, or scan.
void breaker_checked(reconciler_pointer self, bool open) {
  self->state.cold_open = open;
  if (open) {
    if (auto* c = counters(self))
      c->ticks_cold_open.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  scan(self);
}

void on_tick(reconciler_pointer self) {
  auto& st = self->state;
  self->delayed_send(self, st.cfg.interval, tick_atom::value);
  if (auto* c = counters(self))
    c->ticks.fetch_add(1, std::memory_order_relaxed);
  update_backlog(self);
  sweep_step(self);
  // Forget backoffs long expired, so the map stays bounded by the failing
  // sessions.
  if (st.backoff.size() > 4 * st.cfg.page) {
    auto now = clock::now();
    for (auto i = st.backoff.begin(); i != st.backoff.end();)
      i = i->second.next_at + st.cfg.backoff_max < now ? st.backoff.erase(i)
                                                       : std::next(i);
  }
  // While the breaker refuses every call, every persist would be refused,
  // so nothing is claimed or read. The gate answers without a message.
  if (st.cfg.gate)
    return breaker_checked(self, st.cfg.gate->refuses(clock::now()));
  // Without one, the supervisor's status (it answers at once): open with no
  // probe due.
  self->request(st.cfg.cold, st.cfg.redis_timeout, cold_status_atom::value)
    .then(
      [self](const cold_status& cs) {
        breaker_checked(self, refuses_calls(cs.state, cs.next_probe_ms));
      },
      [](caf::error&) {});
}

reconciler_actor::behavior_type reconciler_impl(reconciler_pointer self,
                                                reconciler_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.round.redis = st.cfg.redis;
  st.round.cold = st.cfg.cold;
  st.round.redis_timeout = st.cfg.redis_timeout;
  st.round.cold_timeout = st.cfg.cold_timeout;
  st.round.hot_ttl = st.cfg.hot_ttl;
  st.round.owner = st.cfg.owner;
  st.round.lease = st.cfg.lease;
  st.round.path = persist_path::reconciler;
  st.round.counters = st.cfg.counters;
  st.round.component = "outbox_reconciler";
  st.round.gate = st.cfg.gate;
  st.retry.base = st.cfg.backoff_base;
  st.retry.cap = st.cfg.backoff_max;
  st.retry.max_doublings = 20;
  st.retry.jitter_low = 0.5;
  st.retry.jitter_high = 1.5;
  self->send(self, tick_atom::value);
  return {
    [=](tick_atom) { on_tick(self); },
  };
}

} // namespace

reconciler_actor spawn_outbox_reconciler(caf::actor_system& sys,
                                         reconciler_config cfg) {
  return sys.spawn(reconciler_impl, std::move(cfg));
}

std::string make_owner_token() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string token;
  for (int i = 0; i < 32; ++i)
    token += hex[rd() % 16];
  return token;
}

} // namespace authstore
