#!lua flags=no-writes
--[[
  read_keys -- reads some Signal keys of session S and its version.

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:k   keys, "<type>/<id>" -> value
  ARGV[1] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[2..] the fields "<type>/<id>" to read (at least one)

  Reply:
    {version, value-or-nil, ...}   one value per field, in ARGV order, nil
                                   where absent; version '0' when unknown
    {-3}                           UNTRACED (require_trace, no meta hash)

  Why no-writes: as read_creds. Limit: the fields go to one HMGET through
  an unchunked unpack(), so Lua's C stack bounds one call at about 8000 ids
  (include/chunked_call.lua).
]]
--@include "require_trace.lua"

local meta = traced_meta(ARGV[1])
if not meta then return UNTRACED end
local vals = redis.call('HMGET', KEYS[2], unpack(ARGV, 2))
table.insert(vals, 1, meta[1] or '0')
return vals
