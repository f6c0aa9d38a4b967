#!lua flags=allow-oom
--[[
  touch_session -- refreshes the TTL of an existing session S.

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds
  KEYS[3] as:{S}:k   keys
  KEYS[4] as:{S}:o   outbox
  ARGV[1] expire_at_ms, absolute ('0' = remove the TTL)
  ARGV[2] require_trace ('1'/'0', see include/require_trace.lua)

  Reply:
    1      the session exists (its TTL refreshed, unless it is dirty)
    0      no session, or a tombstone
    {-3}   UNTRACED (require_trace, no meta hash)

  A dirty session (an outbox exists) keeps no TTL: its marks name values
  only Redis holds (see apply_patch). Why allow-oom: a TTL refresh allocates
  nothing.
]]
--@include "require_trace.lua"

local meta = traced_meta(ARGV[2])
if not meta then return UNTRACED end
if (not meta[1]) or meta[2] then return 0 end
if ARGV[1] ~= '0' and redis.call('EXISTS', KEYS[4]) == 1 then return 1 end
for k = 1, 3 do
  if ARGV[1] == '0' then
    redis.call('PERSIST', KEYS[k])
  else
    redis.call('PEXPIREAT', KEYS[k], ARGV[1])
  end
end
return 1
