#!lua
--[[
  sweep_dirty -- one SCAN step over the outbox hashes, re-indexing sessions
  whose marks the index lost (the index is a key of its own, written beside
  the marks); quarantined sessions stay out.

  KEYS[1] as:dirty        index of dirty sessions
  KEYS[2] as:quarantine   quarantined sessions
  ARGV[1] SCAN cursor ('0' starts a pass)
  ARGV[2] SCAN COUNT hint
  ARGV[3] now_ms (the stamp of a re-indexed session)

  Reply: {next cursor ('0' when the pass is complete), sessions
  re-indexed}.

  Coupled with the key names of redis/keys.cpp: an outbox key is
  "as:{" S "}:o", so S is the key without its first 4 and last 3 bytes.
  Standalone Redis only: SCAN sees one node (docs/ARCHITECTURE.md,
  "Cluster"); the keys it finds are not declared in KEYS, which Cluster
  would refuse anyway.
]]

local r = redis.call('SCAN', ARGV[1], 'MATCH', 'as:{*}:o', 'COUNT', ARGV[2])
local added = 0
for _, k in ipairs(r[2]) do
  local sid = string.sub(k, 5, -4)
  if not redis.call('ZSCORE', KEYS[2], sid) then
    added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[3], sid)
  end
end
return {r[1], added}
