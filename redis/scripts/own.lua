#!lua
--[[
  own -- takes, renews or releases node ownership of session S (issue #19):
  at most one session actor in the whole cluster may answer S from its
  cache and write S, the one whose (process token, actor incarnation) the
  record names. Not the client lease of lease.lua (one Baileys process per
  account); both live under S's hash tag and are checked by the same write.

  KEYS[1] as:{S}:own  hash: n node id, t process token, a actor incarnation,
                      e epoch, x expiry (ms, Redis TIME)
  ARGV[1] mode: 'take' | 'release'
  ARGV[2] process token (random per process start; non-empty)
  ARGV[3] actor incarnation (a decimal number, growing within a process)
  ARGV[4] node id (take: recorded for the other nodes, e.g. to forward to)
  ARGV[5] ttl_ms (take)

  Reply:
    {epoch, ttl_ms, took_over}      take: the caller owns S until now + ttl;
                                    took_over 1 when the record was another
                                    process's, left to expire (a takeover),
                                    else 0
    {-8, expires_in_ms, owner}      OWNED: another holder's record is live
                                    (owner = its node id); nothing changed
    {released}                      release: 1 when the caller held it

  Who may take:
    - nobody holds it (no record, released, or expired): a new epoch;
    - the caller holds it (same token and incarnation, live): a renewal,
      the same epoch, a new expiry;
    - a newer actor of the same process (same token, higher incarnation):
      the router of that process spawns a new actor for S only after it
      passivated the old one, and their Redis calls share one FIFO
      connection, so the old one's writes were applied first; it takes
      over at once with a new epoch. An older incarnation never takes back
      (its renewal can reach Redis after the newer actor's take).
  A restarted process has a new token and waits for the old record to
  expire like any other node: a token is what makes takeover safe, a node
  id is only a name (two processes may be started with one by mistake).

  Epochs are never reused for S: e stays when the record is released or
  expires (the key has no TTL; a few bytes per session ever owned), so an
  epoch change always means a gap in which someone else may have written.
  The fence on writes is include/check_owner.lua.
]]
--@include "redis_clock.lua"
-- Coupled with script_answer::owned in redis/layout.cpp.
local OWNED = -8

local o = redis.call('HMGET', KEYS[1], 'n', 't', 'a', 'e', 'x')
local token, actor = ARGV[2], tonumber(ARGV[3])
if ARGV[1] == 'release' then
  if o[2] ~= token or tonumber(o[3]) ~= actor then return {0} end
  redis.call('HDEL', KEYS[1], 'n', 't', 'a', 'x')
  return {1}
end
local now = redis_now_ms()
local ttl = tonumber(ARGV[5])
local epoch = tonumber(o[4] or '0')
local live = o[2] and tonumber(o[5] or '0') > now
local mine = live and o[2] == token and tonumber(o[3]) == actor
local took_over = 0
if not mine then
  local newer = live and o[2] == token and actor > tonumber(o[3])
  if live and not newer then
    return {OWNED, tonumber(o[5]) - now, o[1] or ''}
  end
  -- Another process's token still in the record: it expired, never released.
  if o[2] and o[2] ~= token then took_over = 1 end
  epoch = epoch + 1
end
redis.call('HSET', KEYS[1], 'n', ARGV[4], 't', token, 'a', ARGV[3], 'e', epoch,
           'x', now + ttl)
return {epoch, ttl, took_over}
