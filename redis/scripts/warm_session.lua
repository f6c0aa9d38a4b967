#!lua
--[[
  warm_session -- read-through: fills Redis with session S as loaded from
  the cold store, only if Redis still has no trace of S.

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds
  KEYS[3] as:{S}:k   keys
  KEYS[4] as:{S}:o   outbox
  ARGV[1] expire_at_ms, absolute ('0' = no TTL)
  ARGV[2] version the cold store holds
  ARGV[3] found ('1' when the cold store has S, '0' when not)
  ARGV[4..] pairs: field ('c:..' | 'k:..'), value

  Reply:
    1   Redis was filled
    0   Redis had S already (another request or node warmed or wrote it
        meanwhile): nothing changed, the caller re-reads
    error "ERR authstore: outbox without session meta": dirty marks but no
        meta hash, a broken layout; nothing is written over it
    error "ERR authstore: bad field at <i>" before the first write

  A session the cold store does not have becomes a tombstone {v, d=1}:
  versions continue above what the cold store last saw, and the next read is
  answered from Redis. No dirty marks: everything written here is in the
  cold store already.
]]
--@include "chunked_call.lua"

if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return redis.error_reply('ERR authstore: outbox without session meta')
end
local sets = {{}, {}}
for i = 4, #ARGV, 2 do
  local p = string.sub(ARGV[i], 1, 2)
  local slot = (p == 'c:') and 1 or ((p == 'k:') and 2 or nil)
  if not slot then
    return redis.error_reply('ERR authstore: bad field at ' .. i)
  end
  table.insert(sets[slot], string.sub(ARGV[i], 3))
  table.insert(sets[slot], ARGV[i + 1])
end
for slot = 1, 2 do chunked_call('HSET', KEYS[slot + 1], sets[slot]) end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
if ARGV[3] ~= '1' then redis.call('HSET', KEYS[1], 'd', '1') end
if ARGV[1] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[1]) end
end
return 1
