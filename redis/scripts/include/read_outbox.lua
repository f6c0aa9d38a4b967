--[[
  read_outbox.lua -- the outbox read shared by read_dirty and claim_dirty.

  Expects: KEYS[1..4] = as:{S}:m, as:{S}:c, as:{S}:k, as:{S}:o.
  read_outbox() returns {version, (field, mark, value-or-nil)...}: version
  is the meta hash's v ('0' when absent); for each dirty mark of the outbox
  (field name "c:.."/"k:.." -> the version that last wrote it) the field,
  its mark and its current value, nil when the field was deleted. The marks
  "!erase" (a delete at that version) and "!v" (a patch without writes)
  carry no value.

  Why one script call: the values are exactly those at the version read, so
  the persist built from them (redis_layout::parse_read_dirty) is a
  consistent snapshot of the dirty fields at that version, and clear_dirty
  can later clear exactly the marks <= it.
]]
local function read_outbox()
  local out = {redis.call('HGET', KEYS[1], 'v') or '0'}
  local marks = redis.call('HGETALL', KEYS[4])
  for i = 1, #marks, 2 do
    local f = marks[i]
    local p = string.sub(f, 1, 2)
    -- false, not nil: a nil would end the Lua array; Redis replies nil.
    local val = false
    if p == 'c:' then val = redis.call('HGET', KEYS[2], string.sub(f, 3))
    elseif p == 'k:' then
      val = redis.call('HGET', KEYS[3], string.sub(f, 3))
    end
    out[#out + 1] = f
    out[#out + 1] = marks[i + 1]
    out[#out + 1] = val
  end
  return out
end
