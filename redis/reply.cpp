// reply.cpp -- see redis/reply.hpp.
#include "redis/reply.hpp"

#include <hiredis/hiredis.h>

namespace authstore {

redis_reply flatten_reply(const redisReply& r) {
  redis_reply out;
  switch (r.type) {
    case REDIS_REPLY_INTEGER:
      out.kind = redis_reply::integer;
      out.number = r.integer;
      break;
    case REDIS_REPLY_STRING:
      out.kind = redis_reply::text;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.kind = redis_reply::status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ARRAY:
      out.kind = redis_reply::array;
      out.items.reserve(r.elements);
      out.item_nil.reserve(r.elements);
      for (size_t i = 0; i < r.elements; ++i) {
        const auto* e = r.element[i];
        if (e->type == REDIS_REPLY_INTEGER)
          out.items.push_back(std::to_string(e->integer));
        else if (e->type == REDIS_REPLY_NIL)
          out.items.emplace_back();
        else
          out.items.emplace_back(e->str ? std::string(e->str, e->len)
                                        : std::string{});
        out.item_nil.push_back(e->type == REDIS_REPLY_NIL ? 1 : 0);
      }
      break;
    default:
      out.kind = redis_reply::nil;
  }
  return out;
}

} // namespace authstore
