#!lua
--[[
  apply_patch -- applies one patch to session S: its writes and deletes,
  version + 1, dirty marks for the cold path, TTL. All or nothing.

  KEYS[1] as:{S}:m          meta hash (v = version, d = tombstone)
  KEYS[2] as:{S}:c          creds fields
  KEYS[3] as:{S}:k          keys, "<type>/<id>" -> value
  KEYS[4] as:{S}:o          outbox: field -> version that last wrote it
  KEYS[5] as:dirty          index of dirty sessions: S -> ms
  KEYS[6] as:dirty:fields   count of dirty marks over all outboxes
  KEYS[7] as:{S}:cl         client lease (include/check_lease.lua)
  KEYS[8] as:{S}:own        node ownership (include/check_owner.lua;
                            optional: without it no ownership check)
  ARGV[1] condition: '' = none; a number = only at that version;
          'absent' = only when no live session exists (no meta hash, or a
          tombstone: "exists" means live, whatever the version)
  ARGV[2] expire_at_ms, absolute ('0' = no TTL)
  ARGV[3] now_ms (the index stamp)
  ARGV[4] S (the index member)
  ARGV[5] track_dirty ('1' with a cold store, else '0')
  ARGV[6] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[7..9] optional options triple, present when ARGV[7] is '!':
          replace ('1'/'0'), min version ('0' = none); the writes follow it
  then an optional owner triple, present when the next ARGV is '@': the
          writer's process token and actor incarnation (own.lua); without
          it the writer owns nothing (include/check_owner.lua)
  ARGV[7..n] (3 later after each optional triple) triples: op ('s' set | 'd' delete),
          field ('c:..' | 'k:..'), value ('' for a delete). The client
          sends only the last write of each field, so grouping deletes
          before sets reorders nothing.
  ARGV[n+1], ARGV[n+2] (the last two) the write's lease: holder ('' = none)
          and epoch. Last, so the options and triples stay where they are.

  Reply:
    {version}        the version the patch got
    {-1, current}    CONFLICT: the condition of ARGV[1] does not hold;
                     nothing written
    {-3}             UNTRACED (require_trace and no meta hash); nothing
                     written
    {-4}             FENCED (the client lease does not hold); nothing
                     written
    {-10}            NOT_OWNER (the node ownership does not hold,
                     include/check_owner.lua); nothing written
    error "ERR authstore: bad field at <i>" before the first write

  Why all checks come first: Lua scripts are atomic but not transactional;
  an error after a write leaves that write. Why "#!lua" without flags: Redis
  7 then refuses the script up front with OOM under noeviction, instead of
  failing half-way through its writes.

  TTL: without dirty tracking the hot copy gets expire_at_ms. With it, the
  write makes the session dirty, and a dirty session never expires (its
  marks name values only Redis holds): the script removes any TTL (also the
  one a read-through gave a tombstone), and clear_dirty sets the hot TTL
  again once the cold store has everything. A patch without writes still
  moves the version, so it leaves the mark "!v": the cold watermark follows
  it, and a session loaded back after expiry never shows an older version.

  Replace (import --replace, restore --replace) is a delete and a write in
  one script, so nobody sees the session half replaced: the creds and keys
  hashes go, the delete takes version D = current + 1 and the writes D + 1
  (a session Redis has no trace of: D = 0, writes at 1), exactly as
  delete_session followed by apply_patch would number them. With dirty
  tracking the old marks are replaced by the erase mark "!erase" -> D (the
  cold store drops what it holds at or below D, as for a deleted session)
  plus the marks of the writes at D + 1 > D, which its loads keep. D is
  above every version a persist in flight has read, so that persist's
  clear_dirty cannot take the erase mark with it (delete_session.lua says
  why that matters). Why options are a marked triple and not two more
  fixed ARGV: a patch without them is called exactly as before.

  Min version (restore): the version is max(what it would be, ARGV[9]), so
  a session restored into an empty store keeps its dumped version; never
  lower than the next one, so versions never go backwards (invariant 2).
]]
--@include "require_trace.lua"
--@include "chunked_call.lua"
--@include "check_lease.lua"
--@include "check_owner.lua"
-- Coupled with script_answer::conflict in redis/layout.cpp.
local CONFLICT = -1

local n = #ARGV - 2
local first, replace, floor = 7, false, 0
if n >= 9 and ARGV[7] == '!' then
  first, replace, floor = 10, ARGV[8] == '1', tonumber(ARGV[9])
  if not floor then
    return redis.error_reply('ERR authstore: bad options at 7')
  end
end
local owner_token, owner_actor = '', ''
if n >= first + 2 and ARGV[first] == '@' then
  owner_token, owner_actor = ARGV[first + 1], ARGV[first + 2]
  first = first + 3
end
if lease_fenced(KEYS[7], ARGV[#ARGV - 1], ARGV[#ARGV]) then return FENCED end
if owner_fenced(KEYS[8], owner_token, owner_actor) then return NOT_OWNER end
local meta = traced_meta(ARGV[6])
if not meta then return UNTRACED end
local cur = tonumber(meta[1] or '0')
if ARGV[1] == 'absent' then
  if meta[1] and not meta[2] then return {CONFLICT, cur} end
elseif ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then
  return {CONFLICT, cur}
end
for i = first, n, 3 do
  local p = string.sub(ARGV[i + 1] or '', 1, 2)
  if (p ~= 'c:' and p ~= 'k:') or (ARGV[i] ~= 's' and ARGV[i] ~= 'd')
     or i + 2 > n then
    return redis.error_reply('ERR authstore: bad field at ' .. i)
  end
end
local v = cur + 1
local erase_at = nil
if replace then
  erase_at = meta[1] and cur + 1 or 0
  v = erase_at + 1
  redis.call('DEL', KEYS[2], KEYS[3])
end
if floor > v then v = floor end
local track = ARGV[5] == '1'
-- Flat tables filled with t[#t + 1] and one string.sub per field: with
-- {{}, {}} pairs, table.insert and a second sub this loop cost ~2 us of a
-- one-field write's ~24 us inside Redis (bench/redis-script-stages.sh).
local sub = string.sub
local csets, ksets, cdels, kdels = {}, {}, {}, {}
local marks = {}
local dropped = 0
if track and erase_at then
  dropped = redis.call('HLEN', KEYS[4])
  redis.call('DEL', KEYS[4])
  marks = {'!erase', erase_at}
end
for i = first, n, 3 do
  local f = ARGV[i + 1]
  -- The prefix was checked above: 'c:' or 'k:'.
  local creds = sub(f, 1, 1) == 'c'
  if ARGV[i] == 's' then
    local t = creds and csets or ksets
    t[#t + 1] = sub(f, 3)
    t[#t + 1] = ARGV[i + 2]
  else
    local t = creds and cdels or kdels
    t[#t + 1] = sub(f, 3)
  end
  if track then
    marks[#marks + 1] = f
    marks[#marks + 1] = v
  end
end
chunked_call('HDEL', KEYS[2], cdels)
chunked_call('HDEL', KEYS[3], kdels)
chunked_call('HSET', KEYS[2], csets)
chunked_call('HSET', KEYS[3], ksets)
redis.call('HSET', KEYS[1], 'v', v)
-- Only a tombstone has 'd' (meta[2]): a redis.call costs ~2-3 us inside
-- Redis 7, a tenth of this script's whole cost (issue #18, HOPS.md).
if meta[2] then redis.call('HDEL', KEYS[1], 'd') end
if track then
  if #marks == 0 then marks = {'!v', v} end
  local added = chunked_call('HSET', KEYS[4], marks) - dropped
  if added ~= 0 then redis.call('INCRBY', KEYS[6], added) end
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4])
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
elseif ARGV[2] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[2]) end
end
return {v}
