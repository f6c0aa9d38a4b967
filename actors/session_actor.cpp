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
// Cache: creds and recently read keys, all valid at one version
// (cache_version). A write acknowledged at exactly cache_version + 1 was
// ours and is applied to the cache; any other version means someone else
// wrote, and the cache is dropped. Entries older than cache_max_age are
// re-read, bounding staleness against writers in other processes.
//
// Write-behind (with a cold store): the Lua write marks what it changed as
// dirty in the same script. After the caller got its reply, the actor runs
// one persist chain at a time:
//
//   read_dirty (values of the dirty fields at version V, one script)
//     -> cold supervisor: persist(V)        (idempotent, never regresses)
//     -> clear_dirty(V): marks <= V go      (compare-and-clear in Lua)
//     -> marks left (writes that landed meanwhile)? run again.
//
// Writes arriving while a chain runs are not persisted one by one: they
// leave marks, and the next round carries all of them (coalescing). A
// failed round leaves the marks for the reconciler (actors/
// outbox_reconciler.cpp) and backs off; the caller never waits on the cold
// store and never sees its errors (invariant 5).
//
// Errors are always errors: a Redis failure is hot_unavailable/timeout,
// never "not found" (invariant 4). Redis is the copy reads are served from;
// a Redis miss is a true miss because hot TTLs are refused until
// read-through exists (docs/ARCHITECTURE.md).
#include "actors/session_actor.hpp"

#include <unordered_map>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/redis_layout.hpp"
#include "messages/patch_json.hpp"

namespace authstore {

namespace {

using clock = std::chrono::steady_clock;

struct session_cache {
  uint64_t version = 0;
  clock::time_point loaded{};
  bool has_creds = false;
  creds_reply creds;
  /// "type/id" -> value, or empty optional-like marker for known-absent.
  std::unordered_map<std::string, std::pair<bool, std::string>> keys;

  void clear(uint64_t new_version) {
    version = new_version;
    has_creds = false;
    keys.clear();
  }
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
  /// Failed persist rounds in a row, and when to try again.
  int persist_failures = 0;
  clock::time_point persist_retry_at{};
  static inline const char* name = "authstore.session";
};

using session_pointer = session_actor::stateful_pointer<session_state>;

bool cache_fresh(const session_state& st) {
  return clock::now() - st.cache.loaded < st.cfg->cache_max_age;
}

/// Called after each reply: a draining actor stops once nothing is left.
void finished_one(session_pointer self) {
  if (--self->state.in_flight == 0 && self->state.passivating)
    self->quit();
}

/// Sends `req` to this session's Redis actor; `on_reply` turns the reply
/// into the caller's result. Errors travel to the caller unchanged.
/// Whether a failed request may still have changed the session in Redis: a
/// write whose outcome is unknown (a paused Redis still runs what it
/// received) must not leave a cache that contradicts Redis.
bool may_have_written(const redis_request& req) {
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

/// Counts one finished operation that started at `start`.
void count(session_pointer self, op_kind op, clock::time_point start,
           size_t slot) {
  if (auto* c = self->state.cfg->counters)
    c->ops.record(op, slot,
                  static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                      clock::now() - start)
                      .count()));
}

template <class T, class F>
caf::result<T> ask_redis(session_pointer self, op_kind op, redis_request req,
                         F on_reply) {
  auto start = clock::now();
  auto rp = self->make_response_promise<T>();
  ++self->state.in_flight;
  bool writes = may_have_written(req);
  self
    ->request(self->state.redis, self->state.cfg->redis_timeout,
              redis_atom::value, std::move(req))
    .then(
      [=](redis_reply& reply) mutable {
        outcome<T> result = on_reply(reply);
        count(self, op, start,
              result ? result_slot(*result)
                     : op_result::of(result.error().code));
        if (result)
          rp.deliver(std::move(*result));
        else
          rp.deliver(make_error(result.error()));
        finished_one(self);
      },
      [=](caf::error& err) mutable {
        if (writes)
          self->state.cache.clear(self->state.cache.version);
        auto f = to_failure(err);
        if (f.code == errc::timeout)
          f = {errc::timeout,
               "redis did not answer within "
                 + std::to_string(self->state.cfg->redis_timeout.count())
                 + " ms; a write may or may not have been "
                   "applied"};
        else if (f.code == errc::shutting_down)
          f = {errc::hot_unavailable, "redis actor is gone"};
        count(self, op, start, op_result::of(f.code));
        rp.deliver(make_error(f));
        finished_one(self);
      });
  return rp;
}

/// Applies an acknowledged write of ours to the cache, or drops the cache
/// when the version shows someone else wrote in between.
void apply_to_cache(session_state& st, const patch& p, uint64_t version) {
  auto& c = st.cache;
  if (version != c.version + 1) {
    c.clear(version);
    return;
  }
  c.version = version;
  c.creds.version = version; // what get_creds reports must move with it
  bool creds_touched = false;
  for (const auto& w : p.writes) {
    if (w.field.compare(0, 2, "c:") == 0) {
      creds_touched = true;
      continue;
    }
    auto name = w.field.substr(2);
    if (auto i = c.keys.find(name); i != c.keys.end())
      i->second = w.erase ? std::make_pair(false, std::string{})
                          : std::make_pair(true, w.value);
  }
  // Creds are cached as one assembled document; re-assembling a merge here
  // would duplicate the codec's work, so the next read refreshes it.
  if (creds_touched)
    c.has_creds = false;
}

// -- write-behind persist
// ------------------------------------------------------

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

void persist_failed(session_pointer self, const failure& f) {
  auto code = f.code;
  auto& st = self->state;
  // At most one line per session per backoff period.
  log::write(log::level::warn, "session", "persist_failed",
             {{"session", st.sid},
              {"reason", std::string{to_string(code)}},
              {"detail", f.detail},
              {"next", "the reconciler retries; writes continue"}});
  if (auto* c = st.cfg->outbox)
    c->failures[static_cast<size_t>(persist_path::live)]
               [static_cast<size_t>(code)]
                 .fetch_add(1, std::memory_order_relaxed);
  auto wait
    = st.cfg->persist_retry_base * (1 << std::min(st.persist_failures, 16));
  st.persist_retry_at
    = clock::now() + std::min(wait, st.cfg->persist_retry_max);
  ++st.persist_failures;
  end_persist(self, false);
}

/// Step 3: the cold store confirmed V; clear the marks <= V.
void clear_persisted(session_pointer self, uint64_t version,
                     clock::time_point start) {
  self
    ->request(self->state.redis, self->state.cfg->redis_timeout,
              redis_atom::value,
              redis_layout::clear_dirty(self->state.sid, version, "",
                                        redis_layout::wall_ms()))
    .then(
      [self, version, start](redis_reply& reply) {
        auto cleared = redis_layout::read_clear_dirty(reply);
        if (!cleared)
          return persist_failed(self, cleared.error());
        auto& st = self->state;
        st.persist_failures = 0;
        log::write(log::level::debug, "session", "persisted",
                   {{"session", st.sid},
                    {"version", std::to_string(version)},
                    {"marks_cleared", std::to_string(cleared->cleared)},
                    {"marks_left", std::to_string(cleared->remaining)}});
        if (auto* c = st.cfg->outbox) {
          auto path = static_cast<size_t>(persist_path::live);
          c->persists[path].fetch_add(1, std::memory_order_relaxed);
          c->marks_cleared.fetch_add(cleared->cleared,
                                     std::memory_order_relaxed);
          c->latency[path].record(static_cast<uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now()
                                                                 - start)
              .count()));
        }
        end_persist(self, cleared->remaining > 0);
      },
      [self](caf::error& err) { persist_failed(self, to_failure(err)); });
}

/// Step 1 and 2: read the dirty fields, send them to the cold store.
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
  auto start = clock::now();
  self
    ->request(st.redis, st.cfg->redis_timeout, redis_atom::value,
              redis_layout::read_dirty(st.sid))
    .then(
      [self, start](redis_reply& reply) {
        auto read = redis_layout::read_read_dirty(reply, self->state.sid);
        if (!read)
          return persist_failed(self, read.error());
        if (read->marks == 0) {
          if (auto* c = self->state.cfg->outbox)
            c->clean_reads[static_cast<size_t>(persist_path::live)].fetch_add(
              1, std::memory_order_relaxed);
          return end_persist(self, false);
        }
        auto version = read->request.version;
        self
          ->request(self->state.cfg->cold, self->state.cfg->cold_timeout,
                    persist_atom::value, std::move(read->request))
          .then(
            [self, version, start](uint64_t) {
              clear_persisted(self, version, start);
            },
            [self](caf::error& err) { persist_failed(self, to_failure(err)); });
      },
      [self](caf::error& err) { persist_failed(self, to_failure(err)); });
}

/// After an acknowledged write that left marks.
void wrote_dirty(session_pointer self) {
  if (!self->state.cfg->cold)
    return;
  if (auto* c = self->state.cfg->outbox)
    c->dirty_writes.fetch_add(1, std::memory_order_relaxed);
  start_persist(self);
}

caf::result<uint64_t> handle_set(session_pointer self, patch& p) {
  if (auto ok = validate_patch(p, self->state.cfg->bounds); !ok) {
    count(self, op_kind::set, clock::now(), op_result::of(ok.error().code));
    return make_error(ok.error());
  }
  redis_layout::write_options opts;
  opts.now_ms = redis_layout::wall_ms();
  if (self->state.cfg->hot_ttl.count() > 0)
    opts.expire_at_ms = opts.now_ms
                        + std::chrono::duration_cast<std::chrono::milliseconds>(
                            self->state.cfg->hot_ttl)
                            .count();
  opts.track_dirty = self->state.cfg->track_dirty;
  auto req = redis_layout::apply_patch(self->state.sid, p, opts);
  return ask_redis<uint64_t>(
    self, op_kind::set, std::move(req),
    [self, p = std::move(p)](const redis_reply& r) -> outcome<uint64_t> {
      auto v = redis_layout::read_apply_patch(r);
      if (v) {
        if (log::enabled(log::level::debug))
          log::write(log::level::debug, "session", "set",
                     {{"session", self->state.sid},
                      {"version", std::to_string(*v)},
                      {"fields", std::to_string(p.writes.size())}});
        apply_to_cache(self->state, p, *v);
        wrote_dirty(self);
      }
      return v;
    });
}

caf::result<creds_reply> handle_get_creds(session_pointer self) {
  auto& st = self->state;
  if (st.cache.has_creds && cache_fresh(st)) {
    if (auto* c = st.cfg->counters)
      c->cache_hits.fetch_add(1, std::memory_order_relaxed);
    count(self, op_kind::get_creds, clock::now(), result_slot(st.cache.creds));
    return st.cache.creds;
  }
  return ask_redis<creds_reply>(
    self, op_kind::get_creds, redis_layout::read_creds(st.sid),
    [self](const redis_reply& r) -> outcome<creds_reply> {
      auto result = redis_layout::read_read_creds(r);
      if (auto* c = self->state.cfg->counters; c && result)
        (result->found ? c->redis_hits : c->misses)
          .fetch_add(1, std::memory_order_relaxed);
      if (result) {
        auto& c = self->state.cache;
        if (result->version != c.version)
          c.clear(result->version);
        c.has_creds = true;
        c.creds = *result;
        c.loaded = clock::now();
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
  if (cache_fresh(st)) {
    keys_reply hit;
    hit.version = st.cache.version;
    bool all_cached = true;
    for (const auto& id : ids) {
      auto i = st.cache.keys.find(type + '/' + id);
      if (i == st.cache.keys.end()) {
        all_cached = false;
        break;
      }
      if (i->second.first)
        hit.values.emplace(id, i->second.second);
    }
    if (all_cached) {
      if (auto* c = st.cfg->counters)
        c->cache_hits.fetch_add(1, std::memory_order_relaxed);
      count(self, op_kind::get_keys, clock::now(), op_result::ok);
      return hit;
    }
  }
  auto req = redis_layout::read_keys(st.sid, type, ids);
  return ask_redis<keys_reply>(
    self, op_kind::get_keys, std::move(req),
    [self, type,
     ids = std::move(ids)](const redis_reply& r) -> outcome<keys_reply> {
      auto result = redis_layout::read_read_keys(r, ids);
      if (!result)
        return result;
      auto& c = self->state.cache;
      if (result->version != c.version || !cache_fresh(self->state)) {
        c.clear(result->version);
        c.loaded = clock::now();
      }
      if (c.keys.size() + ids.size() > self->state.cfg->max_cached_keys)
        c.keys.clear(); // bounded: start over rather than track recency
      if (ids.size() <= self->state.cfg->max_cached_keys)
        for (const auto& id : ids) {
          auto i = result->values.find(id);
          c.keys[type + '/' + id] = i == result->values.end()
                                      ? std::make_pair(false, std::string{})
                                      : std::make_pair(true, i->second);
        }
      return result;
    });
}

int64_t expire_at(const session_config& cfg) {
  if (cfg.hot_ttl.count() == 0)
    return 0;
  return redis_layout::wall_ms()
         + std::chrono::duration_cast<std::chrono::milliseconds>(cfg.hot_ttl)
             .count();
}

session_actor::behavior_type
session_impl(session_pointer self, std::string sid, redis_actor redis,
             std::shared_ptr<const session_config> cfg) {
  self->state.sid = std::move(sid);
  self->state.redis = std::move(redis);
  self->state.cfg = std::move(cfg);
  return {
    [=](get_creds_atom, const std::string&) { return handle_get_creds(self); },
    [=](get_keys_atom, const std::string&, const std::string& type,
        std::vector<std::string>& ids) {
      return handle_get_keys(self, type, ids);
    },
    [=](set_atom, const std::string&, patch& p) { return handle_set(self, p); },
    [=](del_atom, const std::string&) {
      self->state.cache.clear(0);
      auto req = redis_layout::delete_session(
        self->state.sid, self->state.cfg->track_dirty, redis_layout::wall_ms());
      return ask_redis<bool>(self, op_kind::del, std::move(req),
                             [self](const redis_reply& r) -> outcome<bool> {
                               self->state.cache.clear(0);
                               auto deleted = redis_layout::read_delete(r);
                               if (!deleted)
                                 return deleted.error();
                               wrote_dirty(self);
                               return deleted->existed;
                             });
    },
    [=](touch_atom, const std::string&) {
      return ask_redis<bool>(
        self, op_kind::touch,
        redis_layout::touch_session(self->state.sid,
                                    expire_at(*self->state.cfg)),
        [](const redis_reply& r) { return redis_layout::read_flag(r); });
    },
    [=](exists_atom, const std::string&) {
      return ask_redis<bool>(
        self, op_kind::exists, redis_layout::exists_session(self->state.sid),
        [](const redis_reply& r) { return redis_layout::read_exists(r); });
    },
    [=](passivate_atom) {
      self->state.passivating = true;
      if (self->state.in_flight == 0)
        self->quit();
    },
  };
}

} // namespace

session_actor spawn_session_actor(caf::actor_system& sys, std::string sid,
                                  redis_actor redis,
                                  std::shared_ptr<const session_config> cfg) {
  return sys.spawn(session_impl, std::move(sid), std::move(redis),
                   std::move(cfg));
}

} // namespace authstore
