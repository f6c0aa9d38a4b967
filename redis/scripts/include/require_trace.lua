--[[
  require_trace.lua -- the read-through preamble of every session script
  (apply_patch, read_creds, read_keys, delete_session, touch_session,
  exists_session).

  Why: with a cold store, Redis is a cache of it, so "no meta hash" means
  "not known here", not "does not exist" (redis/layout.hpp, read-through).
  A script called with require_trace = '1' that finds no meta hash answers
  UNTRACED and changes nothing; the session actor loads the session from
  the cold store, fills Redis (warm_session) and sends the call again. Every
  session script answers the same way, so the caller tells "unknown here"
  apart in one place (redis_layout::untraced).

  Expects: KEYS[1] is the session's meta hash as:{S}:m.
  Coupled with script_answer::untraced in redis/layout.cpp (the number -3 is
  named once there too): change both, tests/redis/lua_*_redistest.cpp check
  that they agree.
]]
local UNTRACED = {-3}

-- The meta hash's {v, d} (each false when absent), or nil when
-- require_trace is '1' and there is no meta hash. One HMGET, whatever the
-- script needs of it: tests count the commands a call costs.
local function traced_meta(require_trace)
  local m = redis.call('HMGET', KEYS[1], 'v', 'd')
  if not m[1] and require_trace == '1' then return nil end
  return m
end
