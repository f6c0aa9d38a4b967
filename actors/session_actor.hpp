// session_actor.hpp -- spawns the actor that owns one session id.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "messages/backoff.hpp"
#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"

namespace caf {
class actor_system;
}

namespace authstore::crypto {
class value_cipher;
}

namespace authstore {

class cold_gate;

/// Node ownership (issue #19, cluster.enabled): each session actor takes
/// the session's ownership lease in Redis at its first read or write,
/// renews it while the session is used here and releases it when it is not
/// (or stops); it answers from its cache only while the lease is valid, and
/// its writes are fenced by it. A take refused because another node owns
/// the session is reported to the router, which forwards there.
struct ownership_config {
  /// This node's name in ownership records and the membership.
  std::string node_id;
  /// Random per process start: what makes a record this process's.
  std::string process_token;
  /// Lease term, and how long before its end the cache stops being trusted
  /// (the clock-skew bound, actors/owner_lease.hpp).
  std::chrono::milliseconds lease{3000};
  std::chrono::milliseconds margin{300};
  /// How often a live session actor renews (or, not owning, looks whether
  /// the owner's record expired): a third of the lease.
  std::chrono::milliseconds renew{1000};
  /// Incarnation numbers of this process's session actors: a newer actor
  /// of the same process takes over at once (redis/scripts/own.lua).
  std::atomic<uint64_t> incarnations{0};
  /// Where takes, renewals, losses and fenced writes are counted (may be
  /// null).
  cluster_counters* counters = nullptr;
};

/// Settings shared by all session actors (one immutable copy per engine).
struct session_config {
  /// Bound on each Redis request; a caller waits at most about this long.
  std::chrono::milliseconds redis_timeout{3000};
  /// Hot TTL of a clean session (set by a touch, a read-through, and when
  /// the cold store confirmed every write); 0 = no TTL.
  std::chrono::seconds hot_ttl{0};
  /// How long Redis remembers that the cold store lacks a session (the
  /// tombstone a read-through leaves) when there is no hot TTL: reads of
  /// unknown ids must not fill Redis for ever. Expiry is safe: the next
  /// operation asks the cold store again.
  std::chrono::seconds absent_ttl{3600};
  /// Most cached key entries per session (present or absent ids).
  size_t max_cached_keys = 64;
  /// A cache older than this is re-read from Redis: the staleness bound for
  /// deployments where another process writes the same session.
  std::chrono::milliseconds cache_max_age{1000};
  /// Limits every patch is checked against before anything is sent (the
  /// engine's codec.* settings; see validate_patch).
  patch_limits limits;
  /// Where operations, cache hits and misses are counted (may be null).
  session_counters* counters = nullptr;
  /// The cold store's supervisor; null in Redis-only mode (no cold store).
  /// With it, every acknowledged write is followed by a persist
  /// (write-behind, coalesced; see session_actor.cpp).
  cold_actor cold;
  /// A cold store exists: writes leave dirty marks for it, and a session
  /// Redis has no trace of is loaded from it (Redis is then its cache, and
  /// a Redis miss proves nothing).
  bool with_cold() const { return static_cast<bool>(cold); }
  /// Bound on one persist call to the cold supervisor (its own call timeout
  /// plus a margin, so the supervisor's precise error arrives first).
  std::chrono::milliseconds cold_timeout{4000};
  /// After a failed persist the session leaves its marks to the reconciler
  /// and tries again itself only after this wait: 1 s doubling per failure
  /// in a row (at most 16 doublings) up to 30 s, no jitter (the reconciler
  /// jitters; a live retry only follows a new write anyway).
  backoff_policy persist_retry{std::chrono::milliseconds{1000},
                               std::chrono::milliseconds{30000}, 16};
  /// Where persists are counted (may be null). Its live_in_flight also
  /// caps live persist chains over all sessions: at live_max_in_flight a
  /// write leaves its marks to the reconciler instead of queueing a persist
  /// behind a single cold worker until it times out.
  outbox_counters* outbox = nullptr;
  int64_t live_max_in_flight = 64;
  /// The cold supervisor's published breaker (may be null): while it
  /// refuses every call, a write's persist round reads nothing from Redis
  /// (persist_round.hpp) and the marks wait for the next write after it
  /// lets calls through again, or for the reconciler.
  const cold_gate* gate = nullptr;
  /// Encryption at rest (crypto.key-file; null: off). With it, every value
  /// is sealed before the Lua write and opened when read from Redis; the
  /// cache holds plaintext, Redis and the cold store only ciphertext.
  std::shared_ptr<const crypto::value_cipher> cipher;
  /// Node ownership (cluster.enabled); null: off, and the cache is trusted
  /// for cache_max_age (a single node, or nodes that do not share
  /// sessions). Shared, not const: its incarnation counter moves.
  std::shared_ptr<ownership_config> ownership;
};

/// Spawns the session actor for `sid` (already validated) talking to
/// `redis` (the pool member that owns this session). Its messages carry no
/// session id: the router knows which actor owns which id. `router` (may
/// be null; under ownership only) is told when another node owns `sid`.
session_actor spawn_session_actor(caf::actor_system& sys, std::string sid,
                                  redis_actor redis,
                                  std::shared_ptr<const session_config> cfg,
                                  engine_router_actor router = {});

} // namespace authstore
