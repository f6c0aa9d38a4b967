// redis_wire.hpp -- the Redis actor's request and reply, CAF-free.
//
// The Redis actor is a generic pipelined executor: it knows connections,
// scripts (EVALSHA with NOSCRIPT reload) and error classification, not the
// session layout. redis_layout (actors/) builds requests and reads replies.
// Data always travels as argv elements (KEYS/ARGV), never as command text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace authstore {

/// Scripts the Redis actor loads once and calls with EVALSHA.
enum class redis_script : uint8_t {
  /// Not a script: `args` is a plain command argv.
  none = 0,
  /// Apply a patch: writes, version, dirty marks, TTL (redis_layout.cpp).
  apply_patch = 1,
  /// Read creds and version.
  read_creds = 2,
  /// Read some keys and the version.
  read_keys = 3,
  /// Delete a session and its dirty marks.
  delete_session = 4,
  /// Refresh the TTL of a session.
  touch_session = 5,
  /// Outbox: read the dirty fields' current values and the version.
  read_dirty = 6,
  /// Outbox: claim a session for one reconciler, then read_dirty.
  claim_dirty = 7,
  /// Outbox: compare-and-clear dirty marks at versions <= V.
  clear_dirty = 8,
  /// Outbox: hold (extend) or release a reconciler's claim.
  hold_claim = 9,
  /// Outbox: backlog figures (sessions, fields, oldest, quarantined).
  outbox_stats = 10,
  /// Outbox: one SCAN step re-indexing dirty sessions the index lost.
  sweep_dirty = 11,
  /// Read-through: fill Redis with a session loaded from the cold store.
  warm_session = 12,
  /// Whether a session exists (meta hash present, not a tombstone).
  exists_session = 13,
};

/// One command: a script call with `num_keys` keys then arguments, or a
/// plain command argv.
struct redis_request {
  redis_script script = redis_script::none;
  uint32_t num_keys = 0;
  std::vector<std::string> args;
};

inline bool operator==(const redis_request& a, const redis_request& b) {
  return a.script == b.script && a.num_keys == b.num_keys && a.args == b.args;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_request& x) {
  return f(x.script, x.num_keys, x.args);
}

/// A reply flattened to one level (our scripts return flat arrays).
struct redis_reply {
  enum kind_t : uint8_t {
    nil = 0,
    integer = 1,
    text = 2,
    status = 3,
    array = 4
  };
  uint8_t kind = nil;
  int64_t number = 0;
  std::string str;
  /// For arrays: element texts (integers rendered in decimal).
  std::vector<std::string> items;
  /// For arrays: 1 where the element was nil.
  std::vector<uint8_t> item_nil;
};

inline bool operator==(const redis_reply& a, const redis_reply& b) {
  return a.kind == b.kind && a.number == b.number && a.str == b.str
         && a.items == b.items && a.item_nil == b.item_nil;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, redis_reply& x) {
  return f(x.kind, x.number, x.str, x.items, x.item_nil);
}

} // namespace authstore
