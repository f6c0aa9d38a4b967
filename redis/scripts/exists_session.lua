#!lua flags=no-writes
--[[
  exists_session -- whether session S exists.

  KEYS[1] as:{S}:m   meta hash
  ARGV[1] require_trace ('1'/'0', see include/require_trace.lua)

  Reply:
    1      a live session
    0      no session, or a tombstone
    {-3}   UNTRACED (require_trace, no meta hash)

  Why a script rather than a plain HMGET: with require_trace it answers
  "untraced" exactly as every other session script does, so the caller
  tells "unknown here" apart in one way. One HMGET inside (tests count it).
]]
--@include "require_trace.lua"

local meta = traced_meta(ARGV[1])
if not meta then return UNTRACED end
if (not meta[1]) or meta[2] then return 0 end
return 1
