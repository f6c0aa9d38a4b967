// reply.hpp -- a hiredis reply, flattened into the redis_reply the layout's
// readers take (messages/redis_wire.hpp).
//
// Why a file of its own: this is where bytes a Redis server sent become our
// values, so it is fuzzed (fuzz/redis_reply_fuzz.cpp feeds arbitrary RESP to
// hiredis's reader and every reply through here and every parse_* reader).
// Kept out of connection.cpp, it needs no connection to be called.
//
// Flattening: an integer, bulk string or status becomes that kind; an array
// becomes its elements' texts (integers in decimal, nil as "" with its
// item_nil flag set; a nested array, which our scripts never return, as "");
// anything else (nil, and an error reply, which the connection classifies
// before it gets here) is nil. Total: every reply hiredis can build gives a
// redis_reply, and item_nil always has one entry per item.
#pragma once

#include "messages/redis_wire.hpp"

struct redisReply;

namespace authstore {

/// `r` flattened to one level (see the file comment).
redis_reply flatten_reply(const redisReply& r);

} // namespace authstore
