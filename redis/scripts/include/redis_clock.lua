--[[
  redis_clock.lua -- Redis's own clock, in ms since the epoch. Used by the
  client lease (lease.lua sets an expiry, include/check_lease.lua checks it).

  Why Redis TIME and not a now_ms sent by the caller: the lease is set by
  one node and checked by whichever node carries the holder's next write.
  Node clocks differ (NTP keeps them within tens of ms, a paused VM or a
  bad clock by seconds); with one clock -- the Redis server's -- a lease
  means the same interval to every node, and skew between nodes never
  shortens or stretches it. TIME in a script is allowed since Redis 5
  (scripts replicate their effects, not their text) and Redis 7 always does.
]]
local function redis_now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
