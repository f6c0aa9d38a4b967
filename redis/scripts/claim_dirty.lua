#!lua
--[[
  claim_dirty -- takes a reconciler's claim on session S, then reads its
  outbox as read_dirty does (the reconciler's path).

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds
  KEYS[3] as:{S}:k   keys
  KEYS[4] as:{S}:o   outbox
  KEYS[5] as:{S}:l   the claim (a string: the owner's token)
  ARGV[1] token of this reconciler
  ARGV[2] lease_ms: how long the claim lives unless held (hold_claim)

  Reply:
    {-2}   CLAIMED: another reconciler holds the claim; nothing read
    else   what read_dirty answers (include/read_outbox.lua)

  The claim (SET NX PX) expires by itself, so a crashed reconciler blocks
  no one for longer than the lease. Released or extended by hold_claim,
  released by clear_dirty.
]]
--@include "read_outbox.lua"
-- Coupled with script_answer::claimed in redis/layout.cpp.
local CLAIMED = {-2}

if not redis.call('SET', KEYS[5], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return CLAIMED
end
return read_outbox()
