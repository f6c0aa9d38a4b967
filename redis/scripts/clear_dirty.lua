#!lua
--[[
  clear_dirty -- the compare-and-clear after the cold store confirmed
  version V of session S.

  KEYS[1] as:{S}:o          outbox
  KEYS[2] as:dirty          index of dirty sessions
  KEYS[3] as:dirty:fields   count of dirty marks
  KEYS[4] as:{S}:l          the claim
  KEYS[5] as:{S}:m          meta hash  (KEYS[5..7] get the hot TTL)
  KEYS[6] as:{S}:c          creds
  KEYS[7] as:{S}:k          keys
  ARGV[1] V, the version the cold store holds
  ARGV[2] S (the index member)
  ARGV[3] token of the claim to release ('' = none)
  ARGV[4] now_ms (the index stamp)
  ARGV[5] ttl_ms, the hot TTL of a clean session ('0' = none)

  Reply: {cleared, remaining}: marks removed, marks left.

  Clears only marks at versions <= V: a write that landed after the
  persist read its values carries a higher mark and stays dirty. A session
  with marks left keeps its index entry, re-stamped now (its remaining
  marks are younger than the persist that just finished). A session left
  clean gets the hot TTL: from now on the cold store holds all of it, so
  the hot copy may expire. Releases the claim only if `token` holds it.
]]
--@include "chunked_call.lua"

local V = tonumber(ARGV[1])
local marks = redis.call('HGETALL', KEYS[1])
local drop = {}
for i = 1, #marks, 2 do
  local m = tonumber(marks[i + 1])
  if m and m <= V then drop[#drop + 1] = marks[i] end
end
local cleared = chunked_call('HDEL', KEYS[1], drop)
if cleared > 0 then redis.call('DECRBY', KEYS[3], cleared) end
local remaining = redis.call('HLEN', KEYS[1])
if remaining == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  if ARGV[5] ~= '0' then
    for k = 5, 7 do redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
  end
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[4]) == ARGV[3] then
  redis.call('DEL', KEYS[4])
end
return {cleared, remaining}
