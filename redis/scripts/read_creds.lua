#!lua flags=no-writes
--[[
  read_creds -- reads session S's creds and version.

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds fields
  ARGV[1] require_trace ('1'/'0', see include/require_trace.lua)

  Reply:
    {version, field1, value1, ...}   version '0' when the session is
                                     unknown; no pairs when no creds field
                                     is stored (a successful not-found)
    {-3}                             UNTRACED (require_trace, no meta hash)

  Why no-writes: Redis 7 then runs it on a replica and under OOM, and
  EVALSHA_RO accepts it.
]]
--@include "require_trace.lua"

local meta = traced_meta(ARGV[1])
if not meta then return UNTRACED end
local all = redis.call('HGETALL', KEYS[2])
table.insert(all, 1, meta[1] or '0')
return all
