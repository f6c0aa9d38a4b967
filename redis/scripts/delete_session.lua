#!lua flags=allow-oom
--[[
  delete_session -- deletes session S's hot state, keeping a tombstone.

  KEYS[1] as:{S}:m          meta hash
  KEYS[2] as:{S}:c          creds
  KEYS[3] as:{S}:k          keys
  KEYS[4] as:{S}:o          outbox
  KEYS[5] as:dirty          index of dirty sessions
  KEYS[6] as:dirty:fields   count of dirty marks
  KEYS[7] as:{S}:cl         client lease (include/check_lease.lua)
  KEYS[8] as:{S}:own        node ownership (include/check_owner.lua;
                            optional: without it no ownership check)
  ARGV[1] S (the index member)
  ARGV[2] track_dirty ('1' with a cold store, else '0')
  ARGV[3] now_ms (the index stamp)
  ARGV[4] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[5] the delete's lease holder ('' = none), ARGV[6] its epoch
  ARGV[7] the deleter's process token ('' or absent = owns nothing),
  ARGV[8] its actor incarnation (include/check_owner.lua)

  Reply:
    {existed, version}   existed 1 when a live session was deleted; version
                         D the delete got (0 when Redis had no trace)
    {-3}                 UNTRACED (require_trace, no meta hash): the session
                         is loaded first, so that the erase mark carries the
                         cold store's version and fences off late persists
    {-4}                 FENCED (the client lease does not hold); nothing
                         changed
    {-10}                NOT_OWNER (the node ownership does not hold,
                         include/check_owner.lua); nothing changed
                         (checked first: a fenced logout must not even
                         start a read-through)

  The client lease (as:{S}:cl) survives the delete: its epoch counter
  must never restart for the session (lease.lua).

  Deleting a live session is a write: it gets the next version D. The meta
  hash stays as a tombstone {v=D, d=1} so that versions never go backwards
  across a delete and a re-creation (invariant 2); apply_patch clears d.
  With a cold store, the dirty marks of the deleted fields are replaced by
  one erase mark "!erase" -> D (0 when Redis had no trace of the session:
  erase everything), so the cold delete travels through the outbox like any
  write and survives a crash. D must be above every version a persist in
  flight has read: that persist's clear_dirty(V) clears marks <= V, and an
  erase mark at V would go with them, unpersisted (found by the
  read-through tests: the deleted session came back from the cold store).

  Why allow-oom: deleting must work when Redis is full -- it is how an
  operator frees memory (it adds at most two small fields).
]]
--@include "require_trace.lua"
--@include "check_lease.lua"
--@include "check_owner.lua"

if lease_fenced(KEYS[7], ARGV[5], ARGV[6]) then return FENCED end
if owner_fenced(KEYS[8], ARGV[7] or '', ARGV[8] or '') then return NOT_OWNER end
local meta = traced_meta(ARGV[4])
if not meta then return UNTRACED end
local existed = (meta[1] and not meta[2]) and 1 or 0
local v = tonumber(meta[1] or '0') + existed
local dropped = 0
if ARGV[2] == '1' then dropped = redis.call('HLEN', KEYS[4]) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[4], '!erase', v)
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[1])
  if dropped ~= 1 then redis.call('INCRBY', KEYS[6], 1 - dropped) end
else
  redis.call('ZREM', KEYS[5], ARGV[1])
end
if meta[1] then
  redis.call('HSET', KEYS[1], 'v', v, 'd', '1')
  redis.call('PERSIST', KEYS[1])
end
return {existed, v}
