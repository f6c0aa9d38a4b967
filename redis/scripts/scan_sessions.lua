#!lua flags=no-writes
--[[
  scan_sessions -- one SCAN step over the sessions' meta hashes, naming
  the live sessions among them (dump).

  KEYS    none (SCAN names the keys; see below)
  ARGV[1] SCAN cursor ('0' starts a walk)
  ARGV[2] SCAN COUNT hint

  Reply: {next cursor ('0' when the walk is complete), S...}: the live
  sessions whose meta hash this step found; tombstones ({v, d=1}) are left
  out, "exists" means live.

  SCAN's guarantees carry over: a session live for the whole walk is named
  at least once (maybe twice: callers de-duplicate or tolerate it); one
  created or deleted during the walk may or may not be. Coupled with the
  key names of redis/keys.cpp: a meta key is "as:{" S "}:m", so S is the
  key without its first 4 and last 3 bytes (sweep_dirty.lua cuts outbox
  keys the same way). Standalone Redis only: SCAN sees one node.
]]

local r = redis.call('SCAN', ARGV[1], 'MATCH', 'as:{*}:m', 'COUNT', ARGV[2])
local out = {r[1]}
for _, k in ipairs(r[2]) do
  local m = redis.call('HMGET', k, 'v', 'd')
  if m[1] and not m[2] then out[#out + 1] = string.sub(k, 5, -4) end
end
return out
