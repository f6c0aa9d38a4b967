#!lua flags=no-writes
--[[
  list_key_ids -- the ids stored for one key type of session S, and the
  version they were read at (Baileys' optional keys.list).

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:k   keys, "<type>/<id>" -> value
  ARGV[1] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[2] the key type
  ARGV[3] the most fields the keys hash may have (the bound, below)

  Reply:
    {version, id...}   every id of the type, in hash order (the caller
                       sorts); version '0' when unknown
    {-3}               UNTRACED (require_trace, no meta hash)
    {-6, fields}       TOO_MANY: the keys hash has more fields than ARGV[3];
                       nothing read

  Why HKEYS and a prefix filter in one call, not HSCAN MATCH over several:
  one call is one atomic read at one version, like every other read here,
  and HSCAN MATCH walks the whole hash too (MATCH filters after the walk),
  so chunking would only trade atomicity for the same total work. The cost
  is linear in the session's keys (all types), so it is capped: HLEN first
  (O(1)); above the cap the script refuses instead of blocking Redis (the
  cap is redis_layout::max_list_fields, 100 000: about 10-20 ms of Redis
  time). No unpack(), so Lua's C stack is no limit.
]]
--@include "require_trace.lua"
-- Coupled with script_answer::too_many in redis/layout.cpp.
local TOO_MANY = -6

local meta = traced_meta(ARGV[1])
if not meta then return UNTRACED end
local n = redis.call('HLEN', KEYS[2])
if n > tonumber(ARGV[3]) then return {TOO_MANY, n} end
local prefix = ARGV[2] .. '/'
local plen = #prefix
local out = {meta[1] or '0'}
for _, f in ipairs(redis.call('HKEYS', KEYS[2])) do
  if string.sub(f, 1, plen) == prefix then
    out[#out + 1] = string.sub(f, plen + 1)
  end
end
return out
