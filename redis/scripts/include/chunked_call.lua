--[[
  chunked_call.lua -- redis.call(cmd, key, t...) over a long list t, in
  chunks of 1000 elements. Used by apply_patch (HSET/HDEL of a patch's
  fields and marks), clear_dirty (HDEL of cleared marks) and warm_session
  (HSET of a snapshot).

  Why: unpack() pushes every element onto the Lua C stack, which Redis's
  Lua 5.1 caps (LUAI_MAXCSTACK, 8000): a large patch or snapshot would fail
  with "too many results to unpack" after it had checked everything, in the
  middle of the writes. 1000 is far below the cap and even, so field/value
  pairs never straddle two calls.

  Returns the sum of the calls' integer replies (HSET: fields added; HDEL:
  fields removed); 0 for an empty t, which sends nothing.
]]
local function chunked_call(cmd, key, t)
  local i, total = 1, 0
  while i <= #t do
    total = total + redis.call(cmd, key, unpack(t, i, math.min(i + 999, #t)))
    i = i + 1000
  end
  return total
end
