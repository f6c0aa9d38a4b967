// redis_replies.hpp -- redis_reply values built by hand, for tests that
// feed replies to the readers of redis/layout.hpp or answer as a fake
// Redis (tests/actor/fake_redis.hpp). CAF-free.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "messages/redis_wire.hpp"

namespace authstore::testing {

/// An array reply of `items`, none of them nil unless `nil` says so (one
/// flag per item).
inline redis_reply array(std::vector<std::string> items,
                         std::vector<uint8_t> nil = {}) {
  redis_reply r;
  r.kind = redis_reply::array;
  if (nil.empty())
    nil.assign(items.size(), 0);
  r.items = std::move(items);
  r.item_nil = std::move(nil);
  return r;
}

/// An integer reply.
inline redis_reply integer(int64_t x) {
  redis_reply r;
  r.kind = redis_reply::integer;
  r.number = x;
  return r;
}

/// A bulk string reply.
inline redis_reply text(std::string s) {
  redis_reply r;
  r.kind = redis_reply::text;
  r.str = std::move(s);
  return r;
}

} // namespace authstore::testing
