#!lua flags=no-writes
--[[
  read_dirty -- reads session S's dirty fields, their current values and
  the version, in one call (the live persist path of the session actor).

  KEYS[1] as:{S}:m   meta hash
  KEYS[2] as:{S}:c   creds
  KEYS[3] as:{S}:k   keys
  KEYS[4] as:{S}:o   outbox
  ARGV    none

  Reply: {version, (field, mark, value-or-nil)...}, see
  include/read_outbox.lua. A clean session answers {version}.

  Why no claim: the live path runs at most one persist chain per session
  (in its session actor), and the reconciler leaves sessions dirty for less
  than outbox.grace-ms to it (docs/ARCHITECTURE.md, "The outbox"). Why
  no-writes: it only reads.
]]
--@include "read_outbox.lua"

return read_outbox()
