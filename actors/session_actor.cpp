// session_actor.cpp -- the only writer of one session in this process.
//
// Lifecycle:
//
//   spawned by the router on the first message for its id
//      |
//      v
//   serving --(passivate from router; nothing new can reach it)--> draining
//      ^                                                   (in flight > 0)
//      |                                                        |
//      +-- every request: validate, send to its Redis actor,    | last reply
//          answer after Redis answered                          v
//                                                            stopped
//
// Ordering: the actor never blocks. Each request is sent to the one Redis
// actor that owns this session (a FIFO pipeline on one connection), so Redis
// applies this session's writes in the order they arrived here, and replies
// come back in that order too. Versions are assigned inside the Lua script,
// so concurrent writers in other processes cannot lose each other's
// updates either.
//
// Cache (session_cache.hpp): creds and recently read keys, all valid at
// one version; a write acknowledged at exactly that version + 1 was ours
// and is applied, any other version drops it. Entries older than
// cache_max_age are re-read, bounding staleness against writers in other
// processes.
//
// Write-behind (with a cold store): the Lua write marks what it changed as
// dirty in the same script. After the caller got its reply, the actor runs
// one persist chain at a time, each round persist_round.hpp's (shared with
// the reconciler):
//
//   read_dirty (values of the dirty fields at version V, one script)
//     -> cold supervisor: persist(V)        (idempotent, never regresses)
//     -> clear_dirty(V): marks <= V go      (compare-and-clear in Lua)
//     -> marks left (writes that landed meanwhile)? run again.
//
// Writes arriving while a chain runs are not persisted one by one: they
// leave marks, and the next round carries all of them (coalescing). A
// round is not even started while the cold supervisor's breaker refuses
// every call (session_config::gate; nothing is read, the marks wait for the
// next write after that, or the reconciler: issue #15). A
// failed round leaves the marks for the reconciler (actors/
// outbox_reconciler.cpp) and backs off; the caller never waits on the cold
// store and never sees its errors (invariant 5).
//
// Read-through (with a cold store): Redis is a cache of the cold store, so
// every operation asks Redis to answer "untraced" rather than guess when it
// has no trace of the session (expired by the hot TTL, or lost). The actor
// then loads the session from the cold store once, fills Redis with it
// (warm_session: only if Redis still lacks it), and sends the operation
// again. Operations arriving meanwhile wait behind the load, so they still
// reach Redis in arrival order. A session the cold store lacks becomes a
// tombstone in Redis, so versions keep growing and the next read is
// answered from Redis.
//
// Errors are always errors: a Redis failure is hot_unavailable/timeout, a
// failed load is the cold store's error, never "not found" (invariant 4).
//
// Bounded without a clock entry per request (issue #18): a request to the
// Redis actor is sent without a CAF timeout (CAF 0.17.6 never cancels one:
// each left an entry in the shared clock's multimap and a late timeout
// message). Instead the actor keeps its Redis calls in send order with
// their deadline (one redis_timeout for all, so the front is the earliest)
// and one `tick` scheduled at the front's deadline: the sweep fails every
// call past its deadline with `timeout`, exactly as the CAF timeout did,
// and a reply arriving later is dropped. A busy session schedules one tick
// per redis_timeout instead of one timer per request.
#include "actors/session_actor.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include <caf/all.hpp>

#include "actors/owner_lease.hpp"
#include "actors/persist_round.hpp"
#include "actors/session_cache.hpp"
#include "crypto/value_cipher.hpp"
#include "messages/patch_json.hpp"
#include "observe/log.hpp"
#include "observe/log_limit.hpp"
#include "redis/layout.hpp"

namespace authstore {

namespace {

using clock = std::chrono::steady_clock;

struct session_state;
using session_pointer = session_actor::stateful_pointer<session_state>;

/// An operation waiting on a Redis reply; the sweep calls `expire` when
/// its deadline passed first.
struct redis_call {
  virtual ~redis_call() = default;
  virtual void expire(session_pointer self) = 0;
  /// The request in flight changes the session (set by send_op; counted
  /// in writes_unanswered while the call is pending).
  bool writes = false;
};

/// One request to the Redis actor awaiting its reply.
struct pending_call {
  uint64_t id;
  clock::time_point deadline;
  std::shared_ptr<redis_call> op;
};

struct session_state {
  std::string sid;
  redis_actor redis;
  std::shared_ptr<const session_config> cfg;
  session_cache cache;
  size_t in_flight = 0;
  bool passivating = false;
  /// A persist chain is running (at most one per session).
  bool persisting = false;
  /// Failed persist rounds in a row (cfg->persist_retry), and when to try
  /// again.
  uint32_t persist_failures = 0;
  clock::time_point persist_retry_at{};
  /// Read-through (redis/layout.hpp): while Redis had no trace of
  /// the session and a load from the cold store runs (exactly while this
  /// is not empty), operations wait here by arrival number and are sent
  /// again in that order when it ends (or fail with its error).
  uint64_t next_seq = 0;
  std::map<uint64_t, std::function<void(const failure*)>> waiting;
  /// Redis calls awaiting their reply, in send order (so in deadline
  /// order), and whether a sweep tick is scheduled.
  std::deque<pending_call> calls;
  uint64_t next_call = 0;
  /// Writes sent to Redis whose reply (or failure) has not been handled.
  /// Redis may have applied them already, so under ownership the cache
  /// does not answer meanwhile (cache_fresh).
  size_t writes_unanswered = 0;
  bool sweep_scheduled = false;
  /// Node ownership (cfg->ownership only): this actor's view of its lease
  /// and the token its writes carry (ownership section below).
  std::optional<owner_lease> lease;
  redis_layout::owner_token me;
  /// The last read or write asked of this actor: a lease is renewed only
  /// while the session is in use here.
  clock::time_point last_used{};
  /// Releases so far: the answer to a take sent before a release is
  /// stale (it would revive a lease Redis no longer holds for us).
  uint64_t releases = 0;
  /// A take is on its way: a read or write sent now is judged by it (same
  /// FIFO connection), so no second one is sent.
  bool take_in_flight = false;
  /// Another node's record was live until about then (a refused take):
  /// taking before it ends is useless, and this actor's writes meanwhile
  /// are refused (not_owner) and forwarded by the router.
  clock::time_point other_owner_until{};
  /// Told about other owners (cluster only; may be null).
  engine_router_actor router;
  static inline const char* name = "authstore.session";
};

void use_ownership(session_pointer self, clock::time_point now);

/// The cache read decision. Under node ownership (issue #19): only while
/// this actor's lease is valid (owner_lease.hpp), and then without an age
/// bound, since no other node can write meanwhile; a read is a use, so it
/// takes the lease when not held (the read itself then goes to Redis).
/// Without it: entries younger than cache_max_age, the staleness bound
/// against other writers.
bool cache_fresh(session_pointer self) {
  auto& st = self->state;
  auto now = clock::now();
  if (st.lease) {
    use_ownership(self, now);
    // Not while one of this actor's writes is unanswered: Redis may hold
    // it already, and a reader on another node (reading Redis, because it
    // does not own the session) may have seen it; the cache would then
    // answer an older version after a newer one was read -- a stale read
    // the cluster's linearizability check caught (cluster_e2etest, under
    // load). The read goes to Redis behind the write on the same FIFO
    // connection instead, and so sees it.
    return st.lease->valid(now) && st.writes_unanswered == 0;
  }
  return st.cache.fresh(now, st.cfg->cache_max_age);
}

/// The age past which store_keys starts the key cache over (see
/// cache_fresh).
clock::duration cache_age_bound(const session_state& st) {
  if (st.lease)
    return clock::duration::max();
  return st.cfg->cache_max_age;
}

/// Called after each reply: a draining actor stops once nothing is left.
void finished_one(session_pointer self) {
  if (--self->state.in_flight == 0 && self->state.passivating)
    self->quit();
}

/// Whether `req` changes the session in Redis (a write, not a read).
bool is_write(const redis_request& req) {
  return req.script == redis_script::apply_patch
         || req.script == redis_script::delete_session;
}

/// The counter slot of a successful reply: reads of nothing are not_found.
size_t result_slot(const creds_reply& r) {
  return r.found ? op_result::ok : op_result::not_found;
}
size_t result_slot(const keys_reply&) {
  return op_result::ok;
}
size_t result_slot(uint64_t) {
  return op_result::ok;
}
size_t result_slot(bool existed) {
  return existed ? op_result::ok : op_result::not_found;
}
size_t result_slot(const session_snapshot& s) {
  return s.found ? op_result::ok : op_result::not_found;
}
size_t result_slot(const delete_reply& r) {
  return result_slot(r.existed);
}
size_t result_slot(const key_ids_reply&) {
  return op_result::ok;
}
size_t result_slot(const lease_reply&) {
  return op_result::ok;
}

/// Counts one finished operation that started at `start`.
void count(session_pointer self, op_kind op, clock::time_point start,
           size_t slot) {
  if (auto* c = self->state.cfg->counters)
    c->ops.record(op, slot, clock::now() - start);
}

// -- encryption at rest (issue #17)
// -------------------------------------------- The two places a value crosses
// the Redis boundary: sealed on its way in (stored_patch), opened on its way
// out (opener). Everything else -- the persist round, read-through, the cache
// -- is unchanged: the cold store gets what Redis holds (ciphertext), the cache
// what callers get.

/// The patch to send to Redis: `p` itself, or `p` sealed for this session.
outcome<std::shared_ptr<const patch>>
stored_patch(const session_state& st, std::shared_ptr<const patch> p) {
  if (!st.cfg->cipher)
    return p;
  auto sealed = st.cfg->cipher->seal_patch(st.sid, *p);
  if (!sealed)
    return sealed.error();
  return std::make_shared<const patch>(std::move(*sealed));
}

/// The reply readers' value transform: open with the cipher, or none. The
/// readers call it before the handler returns, so it holds only a pointer
/// to the state (one word: std::function keeps it inline; capturing the
/// cipher's shared_ptr and a copy of the id cost a heap block, an atomic
/// increment and decrement per reply; issue #17, SEALED-READ.md).
redis_layout::value_opener opener(const session_state& st) {
  if (!st.cfg->cipher)
    return {};
  return [st = &st](std::string_view field, std::string_view stored) {
    auto plain = st->cfg->cipher->open(st->sid, field, stored);
    if (!plain) // the detail names the key id and the reason, never a key
      log::write(log::level::warn, "session", "decrypt_failed",
                 {{"session", st->sid}, {"detail", plain.error().detail}});
    return plain;
  };
}

/// One session operation on its way to Redis: how to build its request
/// (again after a read-through) and how to turn the reply into the
/// caller's result. `warms`: read-throughs it waited for.
template <class T, class Make, class OnReply>
struct redis_op : redis_call {
  redis_op(op_kind op, Make make, OnReply on_reply,
           caf::typed_response_promise<T> rp, clock::time_point start,
           uint64_t seq)
      : op(op), make(std::move(make)), on_reply(std::move(on_reply)),
        rp(std::move(rp)), start(start), seq(seq) {}
  op_kind op;
  Make make;
  OnReply on_reply;
  caf::typed_response_promise<T> rp;
  clock::time_point start;
  uint64_t seq;
  int warms = 0;
  void expire(session_pointer self) override;
};

template <class T, class Make, class OnReply>
using redis_op_ptr = std::shared_ptr<redis_op<T, Make, OnReply>>;

template <class T, class Make, class OnReply>
void send_op(session_pointer self, redis_op_ptr<T, Make, OnReply> op);

void start_read_through(session_pointer self);

/// Answers the caller of `op` with `f`.
template <class T, class Make, class OnReply>
void fail_op(session_pointer self, redis_op<T, Make, OnReply>& op,
             const failure& f) {
  count(self, op.op, op.start, op_result::of(f.code));
  op.rp.deliver(make_error(f));
  finished_one(self);
}

/// Parks `op` until the running read-through finished; it is then sent
/// again (or failed with the read-through's error) in arrival order.
template <class T, class Make, class OnReply>
void wait_for_read_through(session_pointer self,
                           redis_op_ptr<T, Make, OnReply> op) {
  self->state.waiting.emplace(op->seq, [self, op](const failure* f) {
    if (f)
      fail_op(self, *op, *f);
    else
      send_op(self, op);
  });
}

/// Schedules the sweep at the earliest deadline (the front's), unless one
/// is scheduled already.
void arm_sweep(session_pointer self) {
  auto& st = self->state;
  if (st.sweep_scheduled || st.calls.empty())
    return;
  st.sweep_scheduled = true;
  auto wait = st.calls.front().deadline - clock::now();
  self->delayed_send(self, std::max(wait, clock::duration::zero()),
                     tick_atom::value);
}

/// Removes a pending call (answered, or past its deadline) and returns its
/// operation: the one place a call leaves `calls`, so writes_unanswered
/// follows it.
std::shared_ptr<redis_call> forget_call(session_state& st,
                                        std::deque<pending_call>::iterator i) {
  auto op = std::move(i->op);
  if (op->writes)
    --st.writes_unanswered;
  st.calls.erase(i);
  return op;
}

/// Fails every Redis call past its deadline, then re-arms.
void sweep(session_pointer self) {
  auto& st = self->state;
  st.sweep_scheduled = false;
  auto now = clock::now();
  while (!st.calls.empty() && st.calls.front().deadline <= now) {
    auto op = forget_call(st, st.calls.begin());
    op->expire(self);
  }
  arm_sweep(self);
}

/// Registers a Redis call; its id goes with the reply handlers.
uint64_t add_call(session_pointer self, std::shared_ptr<redis_call> op) {
  auto& st = self->state;
  auto id = st.next_call++;
  if (op->writes)
    ++st.writes_unanswered;
  st.calls.push_back({id, clock::now() + st.cfg->redis_timeout, std::move(op)});
  arm_sweep(self);
  return id;
}

/// The reply of call `id` arrived: false when the sweep failed it already
/// (the reply is then dropped, as CAF dropped a reply after its timeout).
bool take_call(session_pointer self, uint64_t id) {
  auto& calls = self->state.calls;
  // Replies come back in send order: the call is almost always the front.
  for (auto i = calls.begin(); i != calls.end(); ++i)
    if (i->id == id) {
      forget_call(self->state, i);
      return true;
    }
  return false;
}

/// Answers the caller of `op`, whose Redis call failed with `f`.
template <class T, class Make, class OnReply>
void redis_failed(session_pointer self, redis_op<T, Make, OnReply>& op,
                  failure f) {
  if (f.code == errc::timeout)
    f = {errc::timeout,
         "redis did not answer within "
           + std::to_string(self->state.cfg->redis_timeout.count())
           + " ms; a write may or may not have been "
             "applied"};
  else if (f.code == errc::shutting_down)
    f = {errc::hot_unavailable, "redis actor is gone"};
  // A write whose outcome is unknown (a paused Redis still runs what
  // it received) must not leave a cache that contradicts Redis.
  if (op.writes && may_have_been_applied(f.code))
    self->state.cache.drop();
  fail_op(self, op, f);
}

template <class T, class Make, class OnReply>
void redis_op<T, Make, OnReply>::expire(session_pointer self) {
  redis_failed(self, *this, failure{errc::timeout, {}});
}

/// Sends `op`'s request to this session's Redis actor; its `on_reply`
/// turns the reply into the caller's result. Errors travel to the caller.
/// No CAF timeout: the sweep bounds the call (see the header).
template <class T, class Make, class OnReply>
void send_op(session_pointer self, redis_op_ptr<T, Make, OnReply> op) {
  auto req = op->make();
  op->writes = is_write(req);
  auto id = add_call(self, op);
  self
    ->request(self->state.redis, caf::infinite, redis_atom::value,
              std::move(req))
    .then(
      [self, op, id](redis_reply& reply) {
        if (!take_call(self, id))
          return;
        if (self->state.cfg->with_cold() && redis_layout::untraced(reply)) {
          // Redis does not know the session: load it, then send again.
          if (op->warms >= 2)
            return fail_op(self, *op,
                           {errc::hot_error,
                            "the session left Redis again right after it "
                            "was loaded from the cold store (twice): keys "
                            "deleted by hand, eviction, or a tiny hot TTL?"});
          ++op->warms;
          bool loading = !self->state.waiting.empty();
          wait_for_read_through(self, op);
          if (!loading)
            start_read_through(self);
          return;
        }
        outcome<T> result = op->on_reply(reply, op->warms > 0);
        count(self, op->op, op->start,
              result ? result_slot(*result)
                     : op_result::of(result.error().code));
        if (result)
          op->rp.deliver(std::move(*result));
        else
          op->rp.deliver(make_error(result.error()));
        finished_one(self);
      },
      [self, op, id](caf::error& err) {
        if (!take_call(self, id))
          return;
        redis_failed(self, *op, to_failure(err));
      });
}

/// Runs one operation against Redis: `make()` builds the request,
/// `on_reply(reply, warmed)` reads its reply (warmed: the session was
/// loaded from the cold store on the way). While a read-through runs, the
/// operation waits behind it, so this session's operations still reach
/// Redis in arrival order.
template <class T, class Make, class OnReply>
caf::result<T> ask_redis(session_pointer self, op_kind op, Make make,
                         OnReply on_reply) {
  auto& st = self->state;
  auto x = std::make_shared<redis_op<T, Make, OnReply>>(
    op, std::move(make), std::move(on_reply), self->make_response_promise<T>(),
    clock::now(), st.next_seq++);
  ++st.in_flight;
  if (!st.waiting.empty()) // a read-through runs
    wait_for_read_through(self, x);
  else
    send_op(self, x);
  return x->rp;
}

// -- read-through -------------------------------------------------------------

/// Absolute expiry (ms since the epoch) `ttl` from now; 0 = none.
int64_t expire_in(std::chrono::seconds ttl) {
  return ttl.count() == 0
           ? 0
           : redis_layout::wall_ms() + std::chrono::milliseconds{ttl}.count();
}

int64_t expire_at(const session_config& cfg) {
  return expire_in(cfg.hot_ttl);
}

/// The read-through ended: every waiting operation is sent again, in
/// arrival order, or fails with `f`.
void read_through_done(session_pointer self, const failure* f) {
  auto& st = self->state;
  if (f) {
    // Once per failed read, over all sessions: limited (log_limit.hpp).
    static log::limiter lines;
    lines.write(log::level::warn, "session", "read_through_failed",
                {{"session", st.sid},
                 {"reason", std::string{to_string(f->code)}},
                 {"detail", f->detail}});
    if (auto* c = st.cfg->counters)
      c->read_through[read_through_result::failed].fetch_add(
        1, std::memory_order_relaxed);
  }
  auto waiting = std::move(st.waiting);
  st.waiting.clear();
  for (auto& entry : waiting)
    entry.second(f);
  finished_one(self);
}

/// Redis had no trace of the session: load it from the cold store and
/// fill Redis with it (warm_session changes nothing if Redis got the
/// session meanwhile). A failure is the caller's error -- never "not
/// found" (invariant 4): without the cold store's answer nobody knows.
void start_read_through(session_pointer self) {
  auto& st = self->state;
  ++st.in_flight;
  self->request(st.cfg->cold, st.cfg->cold_timeout, load_atom::value, st.sid)
    .then(
      [self](session_snapshot& snap) {
        auto& st = self->state;
        if (auto ok = redis_layout::check_snapshot(snap); !ok)
          return read_through_done(self, &ok.error());
        auto found = snap.found;
        auto version = snap.version;
        auto fields = snap.fields.size();
        // A tombstone expires even without a hot TTL.
        auto expire = found || st.cfg->hot_ttl.count() > 0
                        ? expire_at(*st.cfg)
                        : expire_in(st.cfg->absent_ttl);
        self
          ->request(st.redis, st.cfg->redis_timeout, redis_atom::value,
                    redis_layout::warm_session(st.sid, snap, expire))
          .then(
            [self, found, version, fields](redis_reply& r) {
              auto filled = redis_layout::parse_flag(r);
              if (!filled)
                return read_through_done(self, &filled.error());
              auto slot = !*filled ? read_through_result::raced
                          : found  ? read_through_result::loaded
                                   : read_through_result::absent;
              if (auto* c = self->state.cfg->counters)
                c->read_through[slot].fetch_add(1, std::memory_order_relaxed);
              log::write(log::level::debug, "session", "read_through",
                         {{"session", self->state.sid},
                          {"result", read_through_label(slot)},
                          {"version", std::to_string(version)},
                          {"fields", std::to_string(fields)}});
              read_through_done(self, nullptr);
            },
            [self](caf::error& err) {
              auto f = to_failure(err);
              read_through_done(self, &f);
            });
      },
      [self](caf::error& err) {
        auto f = to_failure(err);
        if (f.code == errc::shutting_down)
          f.code = errc::cold_unavailable;
        f.detail = "the session is not in Redis and loading it from the "
                   "cold store failed: "
                   + f.detail;
        read_through_done(self, &f);
      });
}

// -- node ownership (issue #19) ---------------------------------------------
// The first use (a read of creds or keys, or a write) takes the lease; a
// timer renews it every ownership_config::renew while the session is in use
// here (a read or write within the last lease term) and releases it when
// it is not, or at passivation. A take refused because another node's
// record is live tells the router (owner_atom), which forwards the
// session's requests to that node until the record would have expired;
// meanwhile this actor reads Redis (never its cache) and its writes are
// refused with not_owner, which the router forwards to the owner. Why a
// read takes too (it did not before forwarding existed): a node that only
// read a session would fence the node that writes it; with forwarding that
// node's writes come here instead, so the first node to use a session owns
// it and every node sees the owner's truth.
//
// The lease changes only on an answer from Redis (an error or a timeout
// leaves the view as it was, and the validity runs out). A write carries
// this actor's token; when the lease is not valid it is sent right behind
// a take on the same FIFO connection, so Redis judges it by that take's
// outcome (include/check_owner.lua).

/// Counts into the cluster counters, if any.
void count_cluster(session_pointer self,
                   std::atomic<uint64_t> cluster_counters::*which) {
  if (auto* c = self->state.cfg->ownership->counters)
    (c->*which).fetch_add(1, std::memory_order_relaxed);
}

/// The owned-sessions gauge follows the lease's held state.
void count_owned(session_pointer self, bool was, bool now) {
  if (was == now)
    return;
  if (auto* c = self->state.cfg->ownership->counters)
    c->owned.fetch_add(now ? 1 : -1, std::memory_order_relaxed);
}

/// Applies a take's answer (sent at `sent`) to the lease.
void took(session_pointer self, clock::time_point sent,
          const redis_layout::ownership_result& res) {
  auto& st = self->state;
  bool was = st.lease->held();
  bool drop = false;
  if (res.owned) {
    drop = st.lease->acquired(sent, res.epoch,
                              std::chrono::milliseconds{res.ttl_ms});
    count_cluster(self,
                  drop ? &cluster_counters::taken : &cluster_counters::renewed);
    if (res.took_over)
      count_cluster(self, &cluster_counters::taken_over);
  } else {
    drop = st.lease->refused(res.owner);
    count_cluster(self,
                  drop ? &cluster_counters::lost : &cluster_counters::refused);
  }
  if (drop)
    st.cache.drop();
  count_owned(self, was, st.lease->held());
}

/// A take's answer, for the router: this node holds the lease (its own
/// node id: delegate here without looking at replies) or another node does
/// for about `left` (forward there meanwhile). A record naming this node's
/// id but another process (a predecessor after a restart) is not reported:
/// there is nowhere to forward to, and this node does not hold it.
void tell_router(session_pointer self, clock::time_point sent,
                 const redis_layout::ownership_result& res) {
  auto& st = self->state;
  const auto& own = *st.cfg->ownership;
  if (!res.owned)
    st.other_owner_until = sent + std::chrono::milliseconds{res.expires_in_ms};
  if (!st.router || (!res.owned && res.owner == own.node_id))
    return;
  if (res.owned)
    self->send(st.router, owner_atom::value, st.sid, own.node_id,
               (own.lease - own.margin).count());
  else
    self->send(st.router, owner_atom::value, st.sid, res.owner,
               res.expires_in_ms);
}

/// Sends a take (or renewal) of the lease. Not counted in in_flight: a
/// stopping actor does not wait for it (its release is sent after it).
void send_take(session_pointer self) {
  auto& st = self->state;
  const auto& own = *st.cfg->ownership;
  auto sent = clock::now();
  st.take_in_flight = true;
  self
    ->request(st.redis, st.cfg->redis_timeout, redis_atom::value,
              redis_layout::take_ownership(st.sid, st.me, own.node_id,
                                           own.lease.count()))
    .then(
      [self, sent, gen = st.releases](redis_reply& r) {
        self->state.take_in_flight = false;
        if (gen != self->state.releases)
          return;
        if (auto res = redis_layout::parse_take_ownership(r)) {
          took(self, sent, *res);
          tell_router(self, sent, *res);
        }
      },
      [self](caf::error&) {
        // Unknown outcome: the lease's validity runs out on its own.
        self->state.take_in_flight = false;
      });
}

/// A read or write at `now`: takes the lease when it is not valid, unless
/// a take is on its way or another node's record is known to be live.
void use_ownership(session_pointer self, clock::time_point now) {
  auto& st = self->state;
  st.last_used = now;
  if (!st.lease->valid(now) && !st.take_in_flight
      && now >= st.other_owner_until)
    send_take(self);
}

/// The token a write carries; sends a take first when the lease is not
/// valid now (a first write, a renewal that did not answer, a non-owner
/// whose owner's record may have expired). Sent right behind a take, the
/// write is judged by that take's outcome; sent while another node owns
/// the session, it is refused (not_owner) and forwarded by the router.
redis_layout::owner_token owner_for_write(session_pointer self) {
  auto& st = self->state;
  if (!st.lease)
    return {};
  use_ownership(self, clock::now());
  return st.me;
}

/// A write answered `f`: when it was refused by the ownership fence, this
/// node does not own the session (any more).
failure write_refused(session_pointer self, failure f) {
  auto& st = self->state;
  if (!st.lease || f.code != errc::not_owner)
    return f;
  count_cluster(self, &cluster_counters::fenced_writes);
  bool was = st.lease->held();
  if (st.lease->lost())
    st.cache.drop();
  count_owned(self, was, false);
  if (!st.lease->owner().empty())
    f.detail = "this node does not own the session (node " + st.lease->owner()
               + " does) and could not forward the request there; nothing "
                 "applied: retry";
  return f;
}

/// At activation: this actor's token and the renewal timer (the first
/// use takes the lease).
void start_ownership(session_pointer self) {
  auto& st = self->state;
  auto& own = *st.cfg->ownership;
  st.lease.emplace(own.margin);
  st.me.token = own.process_token;
  st.me.actor = ++own.incarnations;
  self->delayed_send(self, own.renew, renew_atom::value);
}

void release_ownership(session_pointer self);

/// The renewal timer: renew a held lease while the session is in use here,
/// release it when it was not used for a lease term; stops with
/// passivation.
void renew(session_pointer self) {
  auto& st = self->state;
  if (st.passivating)
    return;
  if (st.lease->held()) {
    if (clock::now() - st.last_used < st.cfg->ownership->lease)
      send_take(self);
    else
      release_ownership(self);
  }
  self->delayed_send(self, st.cfg->ownership->renew, renew_atom::value);
}

/// Releases the lease: idle, or at passivation (counted in in_flight, so a
/// passivating actor stops after the answer or the timeout). The cache is
/// not trusted from now on.
void release_ownership(session_pointer self) {
  auto& st = self->state;
  count_owned(self, st.lease->held(), false);
  st.lease->lost();
  ++st.releases;
  ++st.in_flight;
  self
    ->request(st.redis, st.cfg->redis_timeout, redis_atom::value,
              redis_layout::release_ownership(st.sid, st.me))
    .then(
      [self](redis_reply& r) {
        auto released = redis_layout::parse_release_ownership(r);
        if (released && *released)
          count_cluster(self, &cluster_counters::released);
        finished_one(self);
      },
      [self](caf::error&) {
        // The record expires after its term; other nodes wait that long.
        finished_one(self);
      });
}

// -- write-behind persist -----------------------------------------------------

void start_persist(session_pointer self);

/// Ends the chain: again at once when marks were left behind, else idle.
void end_persist(session_pointer self, bool again) {
  self->state.persisting = false;
  if (auto* c = self->state.cfg->outbox)
    c->live_in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (again) // before finished_one: a draining actor must not stop first
    start_persist(self);
  finished_one(self);
}

/// A failed round: its marks wait for the reconciler, and this session
/// tries again itself only after its backoff.
void persist_failed(session_pointer self, const failure& f) {
  auto& st = self->state;
  // At most one line per session per backoff period, and over all
  // sessions at most one per log::repeat_interval (log_limit.hpp).
  static log::limiter lines;
  lines.write(log::level::warn, "session", "persist_failed",
              {{"session", st.sid},
               {"reason", std::string{to_string(f.code)}},
               {"detail", f.detail},
               {"next", "the reconciler retries; writes continue"}});
  if (auto* c = st.cfg->outbox)
    c->failures[static_cast<size_t>(persist_path::live)][errc_slot(f.code)]
      .fetch_add(1, std::memory_order_relaxed);
  st.persist_retry_at
    = clock::now() + st.cfg->persist_retry.wait(st.persist_failures++, 0.0);
  end_persist(self, false);
}

/// The live path's policy on a finished round (persist_round.hpp).
void persist_ended(session_pointer self, const persist_outcome& o) {
  switch (o.end) {
    case persist_end::failed:
      return persist_failed(self, o.error);
    case persist_end::persisted:
      self->state.persist_failures = 0;
      return end_persist(self, o.marks_left > 0);
    case persist_end::clean:
    case persist_end::claimed_elsewhere: // read_dirty takes no claim
    case persist_end::breaker_open:      // not a failure: no backoff; the
                                         // next write or the reconciler
      return end_persist(self, false);
  }
}

/// Starts a round unless one runs, the session backs off, or the live cap
/// over all sessions is reached.
void start_persist(session_pointer self) {
  auto& st = self->state;
  if (st.persisting || !st.cfg->cold || clock::now() < st.persist_retry_at)
    return;
  if (auto* c = st.cfg->outbox) {
    if (c->live_in_flight.fetch_add(1, std::memory_order_relaxed)
        >= st.cfg->live_max_in_flight) {
      c->live_in_flight.fetch_sub(1, std::memory_order_relaxed);
      c->live_deferred.fetch_add(1, std::memory_order_relaxed);
      return; // the marks wait for the reconciler (or this session's next
              // write)
    }
  }
  st.persisting = true;
  ++st.in_flight; // a passivating actor finishes its chain first
  const auto& cfg = *st.cfg;
  persist_round_config round;
  round.redis = st.redis;
  round.cold = cfg.cold;
  round.redis_timeout = cfg.redis_timeout;
  round.cold_timeout = cfg.cold_timeout;
  round.hot_ttl = cfg.hot_ttl;
  round.path = persist_path::live;
  round.counters = cfg.outbox;
  round.gate = cfg.gate;
  run_persist_round(self, round, st.sid, [self](const persist_outcome& o) {
    persist_ended(self, o);
  });
}

/// After an acknowledged write that left marks.
void wrote_dirty(session_pointer self) {
  if (!self->state.cfg->cold)
    return;
  if (auto* c = self->state.cfg->outbox)
    c->dirty_writes.fetch_add(1, std::memory_order_relaxed);
  start_persist(self);
}

/// Counts a read by where it was answered: the cold store (Redis had to
/// load it first), Redis, or nowhere.
void count_read(session_pointer self, bool found, bool warmed) {
  if (auto* c = self->state.cfg->counters)
    (!found   ? c->misses
     : warmed ? c->cold_hits
              : c->redis_hits)
      .fetch_add(1, std::memory_order_relaxed);
}

caf::result<uint64_t> handle_set(session_pointer self, patch& p) {
  if (auto ok = validate_patch(p, self->state.cfg->limits); !ok) {
    count(self, op_kind::set, clock::now(), op_result::of(ok.error().code));
    return make_error(ok.error());
  }
  // Shared by the request builder (called again after a read-through) and
  // the reply reader (which applies it to the cache).
  auto shared = std::make_shared<const patch>(std::move(p));
  auto stored = stored_patch(self->state, shared);
  if (!stored) {
    count(self, op_kind::set, clock::now(), op_result::of(stored.error().code));
    return make_error(stored.error());
  }
  auto make = [self, to_redis = std::move(*stored)] {
    const auto& cfg = *self->state.cfg;
    redis_layout::write_options opts;
    opts.now_ms = redis_layout::wall_ms();
    opts.expire_at_ms = expire_at(cfg);
    opts.track_dirty = cfg.with_cold();
    opts.require_trace = cfg.with_cold();
    opts.owner = owner_for_write(self);
    return redis_layout::apply_patch(self->state.sid, *to_redis, opts);
  };
  return ask_redis<uint64_t>(
    self, op_kind::set, std::move(make),
    [self, shared](const redis_reply& r, bool) -> outcome<uint64_t> {
      auto v = redis_layout::parse_apply_patch(r);
      if (!v)
        return outcome<uint64_t>{write_refused(self, v.error())};
      if (v) {
        if (log::enabled(log::level::debug))
          log::write(log::level::debug, "session", "set",
                     {{"session", self->state.sid},
                      {"version", std::to_string(*v)},
                      {"fields", std::to_string(shared->writes.size())}});
        self->state.cache.apply_write(*shared, *v);
        wrote_dirty(self);
      }
      return v;
    });
}

caf::result<creds_reply> handle_get_creds(session_pointer self) {
  auto& st = self->state;
  if (const auto* cached = st.cache.creds(); cache_fresh(self) && cached) {
    if (auto* c = st.cfg->counters)
      c->cache_hits.fetch_add(1, std::memory_order_relaxed);
    count(self, op_kind::get_creds, clock::now(), result_slot(*cached));
    return *cached;
  }
  return ask_redis<creds_reply>(
    self, op_kind::get_creds,
    [self] {
      return redis_layout::read_creds(self->state.sid,
                                      self->state.cfg->with_cold());
    },
    [self](const redis_reply& r, bool warmed) -> outcome<creds_reply> {
      auto result = redis_layout::parse_read_creds(r, opener(self->state));
      if (result) {
        count_read(self, result->found, warmed);
        self->state.cache.store_creds(*result, clock::now());
      }
      return result;
    });
}

caf::result<keys_reply> handle_get_keys(session_pointer self,
                                        const std::string& type,
                                        std::vector<std::string>& ids) {
  if (auto ok = validate_key_type(type); !ok)
    return make_error(ok.error());
  for (const auto& id : ids)
    if (auto ok = validate_key_id(id); !ok)
      return make_error(ok.error());
  auto& st = self->state;
  if (cache_fresh(self))
    if (auto hit = st.cache.find_keys(type, ids)) {
      if (auto* c = st.cfg->counters)
        c->cache_hits.fetch_add(1, std::memory_order_relaxed);
      count(self, op_kind::get_keys, clock::now(), op_result::ok);
      return std::move(*hit);
    }
  auto shared_ids
    = std::make_shared<const std::vector<std::string>>(std::move(ids));
  return ask_redis<keys_reply>(
    self, op_kind::get_keys,
    [self, type, shared_ids] {
      return redis_layout::read_keys(self->state.sid, type, *shared_ids,
                                     self->state.cfg->with_cold());
    },
    [self, type, shared_ids](const redis_reply& r,
                             bool warmed) -> outcome<keys_reply> {
      const auto& ids = *shared_ids;
      auto result
        = redis_layout::parse_read_keys(r, type, ids, opener(self->state));
      if (!result)
        return result;
      count_read(self, !result->values.empty(), warmed);
      const auto& cfg = *self->state.cfg;
      self->state.cache.store_keys(type, ids, *result, clock::now(),
                                   cache_age_bound(self->state),
                                   cfg.max_cached_keys);
      return result;
    });
}

/// Deletes the session, fenced by `lease` when it is present. `Result`:
/// bool (whether it existed) or delete_reply (and the version it got).
template <class Result>
caf::result<Result> handle_delete(session_pointer self, lease_token lease) {
  self->state.cache.clear(0);
  return ask_redis<Result>(
    self, op_kind::del,
    [self, lease] {
      const auto& cfg = *self->state.cfg;
      return redis_layout::delete_session(
        self->state.sid, cfg.with_cold(), redis_layout::wall_ms(),
        cfg.with_cold(), lease, owner_for_write(self));
    },
    [self](const redis_reply& r, bool) -> outcome<Result> {
      self->state.cache.clear(0);
      auto deleted = redis_layout::parse_delete_session(r);
      if (!deleted)
        return write_refused(self, deleted.error());
      wrote_dirty(self);
      if constexpr (std::is_same_v<Result, bool>)
        return deleted->existed;
      else
        return delete_reply{deleted->existed, deleted->version};
    });
}

/// Lists the ids of one key type (read-through like every read; never
/// from the cache, which holds only some ids).
caf::result<key_ids_reply> handle_list_keys(session_pointer self,
                                            std::string type) {
  if (auto ok = validate_key_type(type); !ok)
    return make_error(ok.error());
  return ask_redis<key_ids_reply>(
    self, op_kind::list_keys,
    [self, type] {
      return redis_layout::list_key_ids(self->state.sid, type,
                                        self->state.cfg->with_cold());
    },
    [](const redis_reply& r, bool) {
      return redis_layout::parse_list_key_ids(r);
    });
}

/// Takes, renews or releases the client lease (one Lua call each; the
/// lease is not session data: no cache, no read-through, no dirty mark).
caf::result<lease_reply> handle_take_lease(session_pointer self,
                                           lease_request req) {
  if (auto ok = validate_lease_holder(req.holder); !ok)
    return make_error(ok.error());
  return ask_redis<lease_reply>(
    self, op_kind::lease,
    [self, req] { return redis_layout::take_lease(self->state.sid, req); },
    [](const redis_reply& r, bool) {
      return redis_layout::parse_take_lease(r);
    });
}

caf::result<bool> handle_release_lease(session_pointer self,
                                       std::string holder) {
  if (auto ok = validate_lease_holder(holder); !ok)
    return make_error(ok.error());
  return ask_redis<bool>(
    self, op_kind::lease,
    [self, holder] {
      return redis_layout::release_lease(self->state.sid, holder);
    },
    [](const redis_reply& r, bool) {
      return redis_layout::parse_release_lease(r);
    });
}

/// The whole session in one script call (read-through like every read);
/// bounded by the patch limits, so what it returns one write can restore.
caf::result<session_snapshot> handle_read_session(session_pointer self) {
  return ask_redis<session_snapshot>(
    self, op_kind::read_session,
    [self] {
      const auto& cfg = *self->state.cfg;
      return redis_layout::read_session(self->state.sid, cfg.limits.max_writes,
                                        cfg.limits.max_patch_bytes,
                                        cfg.with_cold());
    },
    [self](const redis_reply& r, bool warmed) -> outcome<session_snapshot> {
      auto snap = redis_layout::parse_read_session(r);
      if (!snap)
        return snap;
      // Values leave towards a caller (export, dump): opened like every read.
      if (auto open = opener(self->state)) {
        for (auto& w : snap->fields) {
          auto plain = open(w.field, w.value);
          if (!plain)
            return plain.error();
          w.value = std::move(*plain);
        }
      }
      count_read(self, snap->found, warmed);
      return snap;
    });
}

session_actor::behavior_type
session_impl(session_pointer self, std::string sid, redis_actor redis,
             std::shared_ptr<const session_config> cfg,
             engine_router_actor router) {
  self->state.sid = std::move(sid);
  self->state.redis = std::move(redis);
  self->state.cfg = std::move(cfg);
  self->state.router = std::move(router);
  if (self->state.cfg->ownership)
    start_ownership(self);
  return {
    [=](get_creds_atom) { return handle_get_creds(self); },
    [=](get_keys_atom, const std::string& type, std::vector<std::string>& ids) {
      return handle_get_keys(self, type, ids);
    },
    [=](set_atom, patch& p) { return handle_set(self, p); },
    [=](del_atom) { return handle_delete<bool>(self, {}); },
    [=](del_atom, lease_token& lease) {
      return handle_delete<delete_reply>(self, std::move(lease));
    },
    [=](list_keys_atom, std::string& type) {
      return handle_list_keys(self, std::move(type));
    },
    [=](lease_atom, lease_request& req) {
      return handle_take_lease(self, std::move(req));
    },
    [=](release_atom, std::string& holder) {
      return handle_release_lease(self, std::move(holder));
    },
    [=](touch_atom) {
      return ask_redis<bool>(
        self, op_kind::touch,
        [self] {
          const auto& cfg = *self->state.cfg;
          return redis_layout::touch_session(self->state.sid, expire_at(cfg),
                                             cfg.with_cold());
        },
        [](const redis_reply& r, bool) { return redis_layout::parse_flag(r); });
    },
    [=](exists_atom) {
      return ask_redis<bool>(
        self, op_kind::exists,
        [self] {
          return redis_layout::exists_session(self->state.sid,
                                              self->state.cfg->with_cold());
        },
        [](const redis_reply& r, bool) { return redis_layout::parse_flag(r); });
    },
    [=](read_session_atom) { return handle_read_session(self); },
    [=](tick_atom) { sweep(self); },
    [=](renew_atom) { renew(self); },
    [=](passivate_atom) {
      self->state.passivating = true;
      if (self->state.lease)
        release_ownership(self);
      if (self->state.in_flight == 0)
        self->quit();
    },
  };
}

} // namespace

session_actor spawn_session_actor(caf::actor_system& sys, std::string sid,
                                  redis_actor redis,
                                  std::shared_ptr<const session_config> cfg,
                                  engine_router_actor router) {
  return sys.spawn(session_impl, std::move(sid), std::move(redis),
                   std::move(cfg), std::move(router));
}

} // namespace authstore
