#!lua
--[[
  hold_claim -- extends or releases a reconciler's claim on session S, only
  if that reconciler still holds it.

  KEYS[1] as:{S}:l   the claim
  ARGV[1] token of this reconciler
  ARGV[2] ms: the new lease ('0' = release)

  Reply: 1 when the claim was this token's (and is now extended or gone),
  0 when it was not (expired, or taken by another reconciler): nothing
  changed.

  Why compare first: a reconciler whose lease ran out must never release or
  extend the claim another one has taken since.
]]

if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
