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
  ARGV[1] expected version ('' = any)
  ARGV[2] expire_at_ms, absolute ('0' = no TTL)
  ARGV[3] now_ms (the index stamp)
  ARGV[4] S (the index member)
  ARGV[5] track_dirty ('1' with a cold store, else '0')
  ARGV[6] require_trace ('1'/'0', see include/require_trace.lua)
  ARGV[7..] triples: op ('s' set | 'd' delete), field ('c:..' | 'k:..'),
          value ('' for a delete). The client sends only the last write of
          each field, so grouping deletes before sets reorders nothing.
  ARGV[n-1], ARGV[n] (the last two) the write's lease: holder ('' = none)
          and epoch. Last, so the triples' start stays where it is.

  Reply:
    {version}        the version the patch got
    {-1, current}    CONFLICT: ARGV[1] is not the current version; nothing
                     written
    {-3}             UNTRACED (require_trace and no meta hash); nothing
                     written
    {-4}             FENCED (the lease does not hold); nothing written
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
]]
--@include "require_trace.lua"
--@include "chunked_call.lua"
--@include "check_lease.lua"
-- Coupled with script_answer::conflict in redis/layout.cpp.
local CONFLICT = -1

if lease_fenced(KEYS[7], ARGV[#ARGV - 1], ARGV[#ARGV]) then return FENCED end
local meta = traced_meta(ARGV[6])
if not meta then return UNTRACED end
local cur = tonumber(meta[1] or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then
  return {CONFLICT, cur}
end
local n = #ARGV - 2
for i = 7, n, 3 do
  local p = string.sub(ARGV[i + 1], 1, 2)
  if (p ~= 'c:' and p ~= 'k:') or (ARGV[i] ~= 's' and ARGV[i] ~= 'd') then
    return redis.error_reply('ERR authstore: bad field at ' .. i)
  end
end
local v = cur + 1
local track = ARGV[5] == '1'
local sets = {{}, {}}
local dels = {{}, {}}
local marks = {}
for i = 7, n, 3 do
  local f = ARGV[i + 1]
  local slot = (string.sub(f, 1, 2) == 'c:') and 1 or 2
  local name = string.sub(f, 3)
  if ARGV[i] == 's' then
    table.insert(sets[slot], name)
    table.insert(sets[slot], ARGV[i + 2])
  else
    table.insert(dels[slot], name)
  end
  if track then
    table.insert(marks, f)
    table.insert(marks, v)
  end
end
chunked_call('HDEL', KEYS[2], dels[1])
chunked_call('HDEL', KEYS[3], dels[2])
chunked_call('HSET', KEYS[2], sets[1])
chunked_call('HSET', KEYS[3], sets[2])
redis.call('HSET', KEYS[1], 'v', v)
redis.call('HDEL', KEYS[1], 'd')
if track then
  if #marks == 0 then marks = {'!v', v} end
  local added = chunked_call('HSET', KEYS[4], marks)
  if added > 0 then redis.call('INCRBY', KEYS[6], added) end
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4])
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
elseif ARGV[2] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[2]) end
end
return {v}
