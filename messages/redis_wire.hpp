// redis_wire.hpp -- the Redis actor's request and reply, CAF-free.
//
// The Redis actor is a generic pipelined executor: it knows connections,
// scripts (EVALSHA with NOSCRIPT reload) and error classification, not the
// session layout. redis/layout.hpp builds requests and reads replies.
// Data always travels as argv elements (KEYS/ARGV), never as command text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace authstore {

/// Scripts the Redis actor loads once and calls with EVALSHA: one value
/// per entry of messages/redis_scripts.def (the registry; each script's
/// KEYS, ARGV and reply are in redis/scripts/<name>.lua). The values cross
/// the wire inside redis_request, so they are pinned there.
enum class redis_script : uint8_t {
  /// Not a script: `args` is a plain command argv.
  none = 0,
#define AUTHSTORE_REDIS_SCRIPT(name, value) name = value,
#include "messages/redis_scripts.def"
#undef AUTHSTORE_REDIS_SCRIPT
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
