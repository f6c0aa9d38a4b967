--[[
  check_owner.lua -- the node-ownership fence of a write (apply_patch,
  delete_session; issue #19): a write is applied only when the ownership
  record as:{S}:own (own.lua) names the writer's process token and actor
  incarnation, or, for a writer that names none (a node with cluster.enabled
  off, a tool), only while no live record exists. Checked before the
  script's first write, in the same script, so a takeover (own.lua) and a
  fenced write never interleave.

  Why the token and not the epoch: a session actor sends its first write
  right behind its take, on the same FIFO connection, before it knows the
  epoch the take will get; the token names the holder exactly, and every
  change of holder changes it. Why an expired record still lets its holder
  write: nobody else can hold S then (a take would have replaced the
  record), so the write cannot race another owner; readers elsewhere read
  Redis, not a cache, while they do not own S.

  KEYS[n] of the calling script: as:{S}:own, or absent (callers built before
  issue #19: no check at all).
  Coupled with script_answer::not_owner in redis/layout.cpp ({-10}; not
  check_lease.lua's {-4} FENCED: a client reads `fenced` as "my client
  lease is lost, stop", while a write refused here is retried or forwarded
  to the owner: errc::not_owner, docs/ARCHITECTURE.md "Forwarding").
]]
--@include "redis_clock.lua"

local NOT_OWNER = {-10}

-- Whether a write by (token, actor) must be refused; token '' = none.
local function owner_fenced(key, token, actor)
  if not key then return false end
  local o = redis.call('HMGET', key, 't', 'a', 'x')
  if token ~= '' then return o[1] ~= token or o[2] ~= actor end
  return o[1] ~= false and tonumber(o[3] or '0') > redis_now_ms()
end
