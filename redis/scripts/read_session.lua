#!lua flags=no-writes
--[[
  read_session -- reads all of session S, creds, every key and the
  version, in one call: one consistent snapshot at one version (export,
  dump).

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds fields
  KEYS[3] as:{S}:k   keys, "<type>/<id>" -> value
  ARGV[1] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[2] most fields read at once (creds fields plus keys)
  ARGV[3] most bytes read at once: for each field its name with its 'c:'
          or 'k:' prefix plus its value (patch::payload_bytes' measure)

  Reply:
    {version, live, creds, name1, value1, ...}
                       live 1 for a live session, 0 for none or a
                       tombstone; creds: how many of the pairs that follow
                       are creds fields (the rest are keys, "<type>/<id>")
    {-4, fields, bytes} TOO_LARGE: over ARGV[2] fields (bytes 0: not
                       measured) or over ARGV[3] bytes; nothing returned
    {-3}               UNTRACED (require_trace, no meta hash)

  Why one call and not HSCAN pages: HSCAN across calls is no snapshot (a
  write between two pages mixes versions). A huge session is bounded
  instead: the limits are those of one patch (codec.max-writes,
  codec.max-patch-bytes), so whatever this returns one apply_patch can
  write back (restore), and Redis is held for about as long as by the
  largest write it accepts. The field count is checked before anything is
  read (HLEN is O(1)); the bytes after (they are bounded by then). Why
  no-writes: as read_creds.
]]
--@include "require_trace.lua"
-- Coupled with script_answer::too_large in redis/layout.cpp.
local TOO_LARGE = -4

local meta = traced_meta(ARGV[1])
if not meta then return UNTRACED end
local fields = redis.call('HLEN', KEYS[2]) + redis.call('HLEN', KEYS[3])
if fields > tonumber(ARGV[2]) then return {TOO_LARGE, fields, 0} end
local creds = redis.call('HGETALL', KEYS[2])
local keys = redis.call('HGETALL', KEYS[3])
local bytes = 0
for _, part in ipairs({creds, keys}) do
  for i = 1, #part, 2 do bytes = bytes + 2 + #part[i] + #part[i + 1] end
end
if bytes > tonumber(ARGV[3]) then return {TOO_LARGE, fields, bytes} end
local live = (meta[1] and not meta[2]) and 1 or 0
local out = {meta[1] or '0', live, #creds / 2}
for _, part in ipairs({creds, keys}) do
  for i = 1, #part do out[#out + 1] = part[i] end
end
return out
