// owner_hints.hpp -- what a router knows about sessions other nodes own
// (issue #19): where to forward a session's requests, and until when.
//
// Why: a session actor whose ownership take is refused learns the owner's
// node id and how long its record lasts (redis/scripts/own.lua). The
// router keeps that answer until about then and forwards the session's
// requests to that node meanwhile, so it asks Redis about the owner at
// most once per lease term per session, not once per request.
//
// A hint is only a routing decision: safety never depends on it. A stale
// hint sends a request to a node that no longer owns the session, whose
// session actor reads Redis (never its cache) and whose writes are
// refused by the ownership fence (include/check_owner.lua) and forwarded
// again or answered not_owner. A hint naming this node itself comes only
// from this node's own session actor holding the lease (a take refused
// because of a predecessor's record under the same node id is not
// reported), and means "serve it here": it is never forwarded to.
//
// CAF-free, time passed in, one owner (the router), not thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

namespace authstore {

class owner_hints {
public:
  using clock = std::chrono::steady_clock;

  /// `self`: this node's id (hints naming it are dropped).
  explicit owner_hints(std::string self) : self_(std::move(self)) {}

  /// `node` owns `sid` until about `until`. For this node itself: its own
  /// session actor holds the lease (local() is true until then); for an
  /// empty node id: ignored.
  void learn(const std::string& sid, const std::string& node,
             clock::time_point until);

  /// Whether this node's own session actor held `sid`'s lease at last
  /// report, and the report is not older than its term: the router then
  /// delegates to it without looking at the reply.
  bool local(const std::string& sid, clock::time_point now) const;

  /// The node to forward `sid` to at `now`, if a live hint names one.
  std::optional<std::string> owner(const std::string& sid,
                                   clock::time_point now) const;

  /// Forgets the hint for `sid` when it names `node` (a forward there
  /// failed: the next request asks Redis again).
  void forget(const std::string& sid, const std::string& node);

  /// Drops every hint expired at `now`; returns how many are left.
  size_t expire(clock::time_point now);

  size_t size() const { return hints_.size(); }

private:
  struct hint {
    /// Empty: this node's own session actor holds the lease.
    std::string node;
    clock::time_point until;
  };
  std::string self_;
  std::unordered_map<std::string, hint> hints_;
};

} // namespace authstore
