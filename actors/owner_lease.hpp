// owner_lease.hpp -- what one session actor knows about its node-ownership
// lease (issue #19): whether it may answer from its cache, and when to ask
// Redis again. The lease itself lives in Redis (redis/scripts/own.lua);
// this is the actor's local view of it.
//
// Why a class of its own: the rules are the cluster's consistency contract
// (lease-based reads) and deserve tests without actors or servers. CAF-free,
// time passed in, one owner (the session actor), not thread-safe.
//
//                 acquired(new epoch): drop the cache
//   not held ──────────────────────────────────────────▶ held(epoch)
//      ▲  ▲                                               │  │
//      │  └──── refused (another owner) / lost (fenced) ──┘  │ acquired(same
//      │                                                     │ epoch): renewed
//      └── (nothing else: an error reply changes nothing) ◀──┘
//
// Lease-based reads: Redis grants the lease until T_redis + ttl, where
// T_redis is when the take ran -- after the actor sent it. So the actor
// counts from the *send* time on its own steady clock and stops trusting
// its cache at sent + ttl - margin, before Redis can hand the session to
// another node. The margin bounds how much faster Redis's clock may run
// than this node's steady clock over one lease term (rate skew, and a
// forward step of the Redis host's wall clock: Redis TIME is wall time),
// docs/ARCHITECTURE.md "Ownership". A node paused past its lease (SIGSTOP, a
// VM stall) finds on waking that its steady clock moved on, so it never
// answers from a cache it no longer owns; its writes carry its token and
// are fenced in Redis (include/check_owner.lua).
//
// An epoch change means the record was not held without a gap, so another
// node may have written: acquired() then says to drop the cache. Cached
// entries read while not held are dropped the same way on acquisition.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace authstore {

class owner_lease {
public:
  using clock = std::chrono::steady_clock;

  /// `margin`: how long before the lease's end (counted from the take's
  /// send time) the cache stops being trusted.
  explicit owner_lease(clock::duration margin) : margin_(margin) {}

  /// A take sent at `sent_at` got the lease at `epoch` for `ttl`. Returns
  /// true when the cache must be dropped (a new term: another node may
  /// have written since the cache was filled).
  bool acquired(clock::time_point sent_at, uint64_t epoch, clock::duration ttl);

  /// A take answered that `owner` (a node id) holds the lease. Returns
  /// true when it was held (drop the cache).
  bool refused(std::string owner);

  /// A write was fenced: whatever this actor thought, Redis names another
  /// holder. Returns true when it was held (drop the cache).
  bool lost();

  /// Whether the cache may answer at `now`: held, and `now` is before the
  /// lease's end less the margin.
  bool valid(clock::time_point now) const {
    return held_ && now < valid_until_;
  }

  bool held() const { return held_; }
  uint64_t epoch() const { return epoch_; }
  /// The other owner's node id as last answered ("" when none is known).
  const std::string& owner() const { return owner_; }

private:
  clock::duration margin_;
  bool held_ = false;
  uint64_t epoch_ = 0;
  clock::time_point valid_until_{};
  std::string owner_;
};

} // namespace authstore
