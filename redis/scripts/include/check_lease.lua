--[[
  check_lease.lua -- the client-lease fence of a write (apply_patch,
  delete_session): a write carrying a lease (holder, epoch) is applied only
  while the stored lease has that holder and that epoch and has not
  expired. Checked before the script's first write, in the same script, so
  a takeover (lease.lua) and a fenced write can never interleave.

  The lease is the hash as:{S}:cl (fields h holder, e epoch, x expiry in ms
  of Redis TIME; see lease.lua). No record, a released one (no h), another
  holder, another epoch, or an expiry at or before now: fenced.
  A write without a lease (holder '') is never fenced: leases are opt-in
  per client (docs/HTTP-API.md, Leases).

  Coupled with script_answer::fenced in redis/layout.cpp ({-4}).
]]
--@include "redis_clock.lua"
local FENCED = {-4}

-- Whether a write carrying (holder, epoch) must be refused.
local function lease_fenced(key, holder, epoch)
  if holder == '' then return false end
  local l = redis.call('HMGET', key, 'h', 'e', 'x')
  if l[1] ~= holder or l[2] ~= epoch then return true end
  return tonumber(l[3]) <= redis_now_ms()
end
