#!lua
--[[
  lease -- takes, renews, takes over or releases session S's client lease
  (one Baileys process drives one WhatsApp account; docs/HTTP-API.md).

  KEYS[1] as:{S}:cl   hash: h holder, e epoch, x expiry (ms, Redis TIME)
  ARGV[1] mode: 'take' | 'takeover' | 'release'
  ARGV[2] holder (non-empty)
  ARGV[3] ttl_ms (take and takeover; already bounded by the caller)

  Reply:
    {epoch, ttl_ms}       take/takeover: holder has the lease at epoch until
                          now + ttl_ms. The same holder renewing a live
                          lease keeps its epoch; anything else (free,
                          released, expired -- also the holder's own -- or
                          a takeover) is a new epoch, epoch + 1: the epoch
                          changes whenever the lease was not held without
                          a gap, so a write sent before a gap stays fenced.
    {-5, expires_in_ms}   IN_USE: take, and another holder's lease is live;
                          nothing changed
    {released}            release: 1 when holder's record was released
                          (h and x removed), 0 when holder did not hold it

  Epochs are never reused for a session: e stays when the lease is
  released or expires, and delete_session does not touch this key (it has
  no TTL either: a few bytes per session that ever took a lease). Only a
  Redis that loses the key (no AOF, or an eviction policy that evicts keys
  without TTL) restarts the count.
  Not the node-ownership lease of issue #19: that one gets its own key.
]]
--@include "redis_clock.lua"
-- Coupled with script_answer::in_use in redis/layout.cpp.
local IN_USE = -5

local l = redis.call('HMGET', KEYS[1], 'h', 'e', 'x')
local holder = ARGV[2]
local epoch = tonumber(l[2] or '0')
if ARGV[1] == 'release' then
  if l[1] ~= holder then return {0} end
  redis.call('HDEL', KEYS[1], 'h', 'x')
  return {1}
end
local now = redis_now_ms()
local ttl = tonumber(ARGV[3])
local live = l[1] and tonumber(l[3]) > now
if not (live and l[1] == holder) then
  if live and ARGV[1] ~= 'takeover' then
    return {IN_USE, tonumber(l[3]) - now}
  end
  epoch = epoch + 1
end
redis.call('HSET', KEYS[1], 'h', holder, 'e', epoch, 'x', now + ttl)
return {epoch, ttl}
