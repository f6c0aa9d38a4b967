#!lua flags=no-writes
--[[
  outbox_stats -- the outbox backlog figures, read in one call.

  KEYS[1] as:dirty          index of dirty sessions
  KEYS[2] as:dirty:fields   count of dirty marks
  KEYS[3] as:quarantine     sessions whose outbox could not be read
  ARGV    none

  Reply: {dirty sessions, dirty marks ('0' when unset), score (ms) of the
  oldest index entry or '' when the index is empty, quarantined sessions}.

  Why one script: one round trip per tick, and the four figures are of one
  instant.
]]

local n = redis.call('ZCARD', KEYS[1])
local f = redis.call('GET', KEYS[2]) or '0'
local o = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local q = redis.call('ZCARD', KEYS[3])
return {n, f, o[2] or '', q}
