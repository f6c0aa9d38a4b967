#!lua
--[[
  member -- the cluster's membership (issue #19): each node registers under
  its node id with its middleman address and heartbeats; a node that stops
  heartbeating leaves once its entry expires (cluster.member-ttl-ms).

  KEYS[1] as:members        zset: node id -> expiry (ms, Redis TIME)
  KEYS[2] as:members:info   hash: node id -> "<process token> <address>"
  ARGV[1] mode: 'beat' | 'leave'
  ARGV[2] node id, ARGV[3] process token, ARGV[4] address,
  ARGV[5] ttl_ms (beat)

  Reply:
    beat: {now_ms, id1, address1, expires_in_ms1, id2, ...}  the live
          members after this beat (this node included), expired entries
          removed
    {-9, expires_in_ms}  IN_USE (beat): another process heartbeats under
                         this node id; nothing changed
    {left}               leave: 1 when this process's entry was removed

  Not in a session's slot: membership is per cluster (standalone Redis or
  Sentinel only, like the outbox index; docs/ARCHITECTURE.md "Cluster").
]]
--@include "redis_clock.lua"
-- Coupled with script_answer::member_in_use in redis/layout.cpp.
local IN_USE = -9

local id, token = ARGV[2], ARGV[3]
local info = redis.call('HGET', KEYS[2], id)
local mine = info and string.sub(info, 1, #token + 1) == token .. ' '
if ARGV[1] == 'leave' then
  if not mine then return {0} end
  redis.call('ZREM', KEYS[1], id)
  redis.call('HDEL', KEYS[2], id)
  return {1}
end
local now = redis_now_ms()
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  redis.call('HDEL', KEYS[2], unpack(gone))
  info = redis.call('HGET', KEYS[2], id)
  mine = info and string.sub(info, 1, #token + 1) == token .. ' '
end
if info and not mine then
  return {IN_USE, tonumber(redis.call('ZSCORE', KEYS[1], id)) - now}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[5]), id)
redis.call('HSET', KEYS[2], id, token .. ' ' .. ARGV[4])
local reply = {now}
local live = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #live, 2 do
  local entry = redis.call('HGET', KEYS[2], live[i]) or ''
  local space = string.find(entry, ' ', 1, true)
  table.insert(reply, live[i])
  table.insert(reply, space and string.sub(entry, space + 1) or '')
  table.insert(reply, tonumber(live[i + 1]) - now)
end
return reply
