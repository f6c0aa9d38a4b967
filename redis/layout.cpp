// layout.cpp -- key names, Lua scripts and reply readers
// (redis_layout.hpp). The scripts are the whole write protocol of the hot
// store: they are the only code that changes a session in Redis.
#include "redis/layout.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <unordered_map>

#include "messages/codec.hpp"

namespace authstore::redis_layout {

namespace {

// ARGV: expected ("" = any), expire_at_ms ("0" = none), now_ms, sid,
// track_dirty ("1"/"0"), require_trace ("1"/"0"), then triples (op "s"|"d",
// field, value). Returns {version}, {-1, current_version} on a version
// conflict, {-3} when require_trace is set and Redis has no trace of the
// session (the caller loads it from the cold store first), or an error
// reply "ERR authstore: bad field" before any write.
//
// TTL: without dirty tracking the hot copy gets expire_at_ms. With it, a
// write makes the session dirty, and a dirty session never expires (its
// marks name values only Redis holds): the script removes any TTL (also the
// one a read-through gave a tombstone), and clear_dirty sets the hot TTL
// again once the cold store has everything. A patch without writes still moves
// the version, so it leaves the mark "!v": the cold watermark follows it, and a
// session loaded back after expiry never shows an older version.
constexpr std::string_view apply_patch_lua = R"lua(#!lua
local raw = redis.call('HGET', KEYS[1], 'v')
if not raw and ARGV[6] == '1' then return {-3} end
local cur = tonumber(raw or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then
  return {-1, cur}
end
local n = #ARGV
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
local function flush(cmd, key, t)
  local i, added = 1, 0
  while i <= #t do
    added = added + redis.call(cmd, key, unpack(t, i, math.min(i + 999, #t)))
    i = i + 1000
  end
  return added
end
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
-- Deletes first, then sets; the client sends only the last write of each
-- field, so the grouping cannot reorder two writes of one field.
flush('HDEL', KEYS[2], dels[1])
flush('HDEL', KEYS[3], dels[2])
flush('HSET', KEYS[2], sets[1])
flush('HSET', KEYS[3], sets[2])
redis.call('HSET', KEYS[1], 'v', v)
redis.call('HDEL', KEYS[1], 'd')
if track then
  if #marks == 0 then marks = {'!v', v} end
  local added = flush('HSET', KEYS[4], marks)
  if added > 0 then redis.call('INCRBY', KEYS[6], added) end
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4])
  for k = 1, 3 do redis.call('PERSIST', KEYS[k]) end
elseif ARGV[2] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[2]) end
end
return {v}
)lua";

// ARGV: require_trace ("1"/"0"). Returns {version, field1, value1, ...},
// or {-3} when require_trace is set and Redis has no trace of the session.
constexpr std::string_view read_creds_lua = R"lua(#!lua flags=no-writes
local v = redis.call('HGET', KEYS[1], 'v')
if not v then
  if ARGV[1] == '1' then return {-3} end
  v = '0'
end
local all = redis.call('HGETALL', KEYS[2])
table.insert(all, 1, v)
return all
)lua";

// ARGV: require_trace ("1"/"0"), then fields. Returns {version,
// value-or-nil...}, or {-3} as read_creds.
constexpr std::string_view read_keys_lua = R"lua(#!lua flags=no-writes
local v = redis.call('HGET', KEYS[1], 'v')
if not v then
  if ARGV[1] == '1' then return {-3} end
  v = '0'
end
local vals = redis.call('HMGET', KEYS[2], unpack(ARGV, 2))
table.insert(vals, 1, v)
return vals
)lua";

// ARGV: sid, track_dirty ("1"/"0"), now_ms, require_trace ("1"/"0").
// Returns {existed, version}, or {-3} when require_trace is set and Redis
// has no trace of the session (it is loaded first, so that the erase mark
// carries the cold store's version and fences off late persists).
// Deleting a live session is a write: it gets the next version D. The meta
// hash stays as a tombstone {v=D, d=1} so that versions never go backwards
// across a delete and a re-creation (invariant 2); apply_patch clears d.
// With a cold store, the dirty marks of the deleted fields are replaced by
// one erase mark "!erase" -> D (0 when Redis had no trace of the session:
// erase everything), so the cold delete travels through the outbox like any
// write and survives a crash. D must be above every version a persist in
// flight has read: that persist's clear_dirty(V) clears marks <= V, and an
// erase mark at V would go with them, unpersisted (found by the read-through
// tests: the deleted session came back from the cold store).
// allow-oom: deleting must work when Redis is full -- it is how an operator
// frees memory (it adds at most two small fields).
constexpr std::string_view delete_session_lua = R"lua(#!lua flags=allow-oom
local m = redis.call('HMGET', KEYS[1], 'v', 'd')
if not m[1] and ARGV[4] == '1' then return {-3} end
local existed = (m[1] and not m[2]) and 1 or 0
local v = tonumber(m[1] or '0') + existed
local dropped = 0
if ARGV[2] == '1' then dropped = redis.call('HLEN', KEYS[4]) end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[4], '!erase', v)
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[1])
  if dropped ~= 1 then redis.call('INCRBY', KEYS[6], 1 - dropped) end
else
  redis.call('ZREM', KEYS[5], ARGV[1])
end
if m[1] then
  redis.call('HSET', KEYS[1], 'v', v, 'd', '1')
  redis.call('PERSIST', KEYS[1])
end
return {existed, v}
)lua";

// The outbox read shared by read_dirty and claim_dirty. KEYS: m, c, k, o.
// Appends to `out` (which holds a first element already) the triples
// (field, mark version, current value or nil); the erase mark has no value.
// One script call: the values are exactly those at version out[1].
#define AUTHSTORE_READ_DIRTY_LUA                                               \
  "local marks = redis.call('HGETALL', KEYS[4])\n"                             \
  "for i = 1, #marks, 2 do\n"                                                  \
  "  local f = marks[i]\n"                                                     \
  "  local p = string.sub(f, 1, 2)\n"                                          \
  "  local val = false\n"                                                      \
  "  if p == 'c:' then val = redis.call('HGET', KEYS[2], string.sub(f, 3))\n"  \
  "  elseif p == 'k:' then\n"                                                  \
  "    val = redis.call('HGET', KEYS[3], string.sub(f, 3))\n"                  \
  "  end\n"                                                                    \
  "  out[#out + 1] = f\n"                                                      \
  "  out[#out + 1] = marks[i + 1]\n"                                           \
  "  out[#out + 1] = val\n"                                                    \
  "end\n"                                                                      \
  "return out\n"

// Returns {version, field, mark, value-or-nil, ...}.
constexpr std::string_view read_dirty_lua
  = "#!lua flags=no-writes\n"
    "local out = {redis.call('HGET', KEYS[1], 'v') or "
    "'0'}\n" AUTHSTORE_READ_DIRTY_LUA;

// KEYS: m, c, k, o, lease. ARGV: token, lease_ms. Returns {-2} when another
// reconciler holds the session's claim, else what read_dirty returns. The
// claim (SET NX PX) expires by itself, so a crashed reconciler blocks no one
// for longer than the lease.
constexpr std::string_view claim_dirty_lua
  = "#!lua\n"
    "if not redis.call('SET', KEYS[5], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
    "  return {-2}\n"
    "end\n"
    "local out = {redis.call('HGET', KEYS[1], 'v') or "
    "'0'}\n" AUTHSTORE_READ_DIRTY_LUA;

#undef AUTHSTORE_READ_DIRTY_LUA

// The compare-and-clear after the cold store confirmed version V.
// KEYS: o, index, fields counter, lease, m, c, k. ARGV: V, sid, token
// ("" = none), now_ms, ttl_ms ("0" = none). Clears only marks at versions
// <= V: a write that landed after the persist read its values carries a
// higher mark and stays dirty. A session with marks left keeps its index
// entry, re-stamped now (its remaining marks are younger than the persist
// that just finished). A session left clean gets the hot TTL: from now on
// the cold store holds all of it, so the hot copy may expire. Releases the
// claim if `token` holds it. Returns {cleared, remaining}.
constexpr std::string_view clear_dirty_lua = R"lua(#!lua
local V = tonumber(ARGV[1])
local marks = redis.call('HGETALL', KEYS[1])
local drop = {}
for i = 1, #marks, 2 do
  local m = tonumber(marks[i + 1])
  if m and m <= V then drop[#drop + 1] = marks[i] end
end
local cleared, i = 0, 1
while i <= #drop do
  cleared = cleared + redis.call('HDEL', KEYS[1],
                                 unpack(drop, i, math.min(i + 999, #drop)))
  i = i + 1000
end
if cleared > 0 then redis.call('DECRBY', KEYS[3], cleared) end
local remaining = redis.call('HLEN', KEYS[1])
if remaining == 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
  if ARGV[5] ~= '0' then
    for k = 5, 7 do redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
  end
else
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[2])
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[4]) == ARGV[3] then
  redis.call('DEL', KEYS[4])
end
return {cleared, remaining}
)lua";

// KEYS: lease. ARGV: token, ms ("0" = release). Extends or releases the
// claim only if `token` holds it. Returns 1 if it did.
constexpr std::string_view hold_claim_lua = R"lua(#!lua
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
)lua";

// KEYS: index, fields counter, quarantine. Returns {dirty sessions, dirty
// fields, score of the oldest entry or "", quarantined sessions}.
constexpr std::string_view outbox_stats_lua = R"lua(#!lua flags=no-writes
local n = redis.call('ZCARD', KEYS[1])
local f = redis.call('GET', KEYS[2]) or '0'
local o = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local q = redis.call('ZCARD', KEYS[3])
return {n, f, o[2] or '', q}
)lua";

// One SCAN step over outbox hashes: re-indexes sessions whose marks the
// index lost (not quarantined ones). KEYS: index, quarantine. ARGV: cursor,
// count, now_ms. Returns {next cursor, sessions re-indexed}. Standalone
// Redis only: SCAN sees one node (docs/ARCHITECTURE.md, "Cluster").
constexpr std::string_view sweep_dirty_lua = R"lua(#!lua
local r = redis.call('SCAN', ARGV[1], 'MATCH', 'as:{*}:o', 'COUNT', ARGV[2])
local added = 0
for _, k in ipairs(r[2]) do
  local sid = string.sub(k, 5, -4)
  if not redis.call('ZSCORE', KEYS[2], sid) then
    added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[3], sid)
  end
end
return {r[1], added}
)lua";

// KEYS: m, c, k, o. ARGV: expire_at_ms ("0" = persist), require_trace
// ("1"/"0"). Returns 1 when the session exists, 0 when not, {-3} when
// require_trace is set and Redis has no trace of it. A dirty session keeps
// no TTL (see apply_patch). allow-oom: a TTL refresh allocates nothing.
constexpr std::string_view touch_session_lua = R"lua(#!lua flags=allow-oom
local m = redis.call('HMGET', KEYS[1], 'v', 'd')
if not m[1] and ARGV[2] == '1' then return {-3} end
if (not m[1]) or m[2] then return 0 end
if ARGV[1] ~= '0' and redis.call('EXISTS', KEYS[4]) == 1 then return 1 end
for k = 1, 3 do
  if ARGV[1] == '0' then
    redis.call('PERSIST', KEYS[k])
  else
    redis.call('PEXPIREAT', KEYS[k], ARGV[1])
  end
end
return 1
)lua";

// KEYS: m. ARGV: require_trace ("1"/"0"). Returns 1 when the session
// exists, 0 when not (or a tombstone), {-3} when require_trace is set and
// Redis has no trace of it -- the same answer as every other session script,
// so the caller tells "unknown here" apart in one way.
constexpr std::string_view exists_session_lua = R"lua(#!lua flags=no-writes
local m = redis.call('HMGET', KEYS[1], 'v', 'd')
if not m[1] and ARGV[1] == '1' then return {-3} end
if (not m[1]) or m[2] then return 0 end
return 1
)lua";

// Read-through: fills Redis with a session loaded from the cold store, only
// if Redis still has no trace of it (another request or node may have
// warmed or written it meanwhile: then nothing changes and the caller
// re-reads). KEYS: m, c, k, o. ARGV: expire_at_ms ("0" = none), version,
// found ("1"/"0"), then pairs (field, value). A session the cold store does
// not have becomes a tombstone {v, d=1}: versions continue above what the
// cold store last saw, and the next read is answered from Redis. No dirty
// marks: everything written here is in the cold store already. Returns 1
// when it filled Redis, 0 when Redis had the session already.
constexpr std::string_view warm_session_lua = R"lua(#!lua
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('EXISTS', KEYS[4]) == 1 then
  return redis.error_reply('ERR authstore: outbox without session meta')
end
local sets = {{}, {}}
for i = 4, #ARGV, 2 do
  local p = string.sub(ARGV[i], 1, 2)
  local slot = (p == 'c:') and 1 or ((p == 'k:') and 2 or nil)
  if not slot then
    return redis.error_reply('ERR authstore: bad field at ' .. i)
  end
  table.insert(sets[slot], string.sub(ARGV[i], 3))
  table.insert(sets[slot], ARGV[i + 1])
end
for slot = 1, 2 do
  local t, i = sets[slot], 1
  while i <= #t do
    redis.call('HSET', KEYS[slot + 1], unpack(t, i, math.min(i + 999, #t)))
    i = i + 1000
  end
end
redis.call('HSET', KEYS[1], 'v', ARGV[2])
if ARGV[3] ~= '1' then redis.call('HSET', KEYS[1], 'd', '1') end
if ARGV[1] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[1]) end
end
return 1
)lua";

std::string session_key(std::string_view sid, std::string_view suffix) {
  std::string result = "as:{";
  result.reserve(8 + sid.size());
  result += sid;
  result += "}:";
  result += suffix;
  return result;
}

outcome<uint64_t> to_u64(std::string_view text) {
  uint64_t x = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    return {errc::hot_error, "expected a version, got a non-number"};
  return x;
}

failure unexpected(std::string_view what) {
  return {errc::hot_error, "unexpected reply shape for " + std::string{what}};
}

} // namespace

std::string_view script_source(redis_script which) {
  switch (which) {
    case redis_script::apply_patch:
      return apply_patch_lua;
    case redis_script::read_creds:
      return read_creds_lua;
    case redis_script::read_keys:
      return read_keys_lua;
    case redis_script::delete_session:
      return delete_session_lua;
    case redis_script::touch_session:
      return touch_session_lua;
    case redis_script::read_dirty:
      return read_dirty_lua;
    case redis_script::claim_dirty:
      return claim_dirty_lua;
    case redis_script::clear_dirty:
      return clear_dirty_lua;
    case redis_script::hold_claim:
      return hold_claim_lua;
    case redis_script::outbox_stats:
      return outbox_stats_lua;
    case redis_script::sweep_dirty:
      return sweep_dirty_lua;
    case redis_script::warm_session:
      return warm_session_lua;
    case redis_script::exists_session:
      return exists_session_lua;
    case redis_script::none:
      break;
  }
  return {};
}

const std::vector<redis_script>& all_scripts() {
  static const std::vector<redis_script> scripts
    = {redis_script::apply_patch,   redis_script::read_creds,
       redis_script::read_keys,     redis_script::delete_session,
       redis_script::touch_session, redis_script::read_dirty,
       redis_script::claim_dirty,   redis_script::clear_dirty,
       redis_script::hold_claim,    redis_script::outbox_stats,
       redis_script::sweep_dirty,   redis_script::warm_session,
       redis_script::exists_session};
  return scripts;
}

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

std::string meta_key(std::string_view sid) {
  return session_key(sid, "m");
}

std::string creds_key(std::string_view sid) {
  return session_key(sid, "c");
}

std::string keys_key(std::string_view sid) {
  return session_key(sid, "k");
}

std::string outbox_key(std::string_view sid) {
  return session_key(sid, "o");
}

std::string lease_key(std::string_view sid) {
  return session_key(sid, "l");
}

std::string dirty_index_key() {
  return "as:dirty";
}

std::string dirty_fields_key() {
  return "as:dirty:fields";
}

std::string quarantine_key() {
  return "as:quarantine";
}

redis_request apply_patch(std::string_view sid, const patch& p,
                          const write_options& opts) {
  redis_request req;
  req.script = redis_script::apply_patch;
  req.num_keys = 6;
  auto& a = req.args;
  a.reserve(12 + 3 * p.writes.size());
  a.push_back(meta_key(sid));
  a.push_back(creds_key(sid));
  a.push_back(keys_key(sid));
  a.push_back(outbox_key(sid));
  a.push_back(dirty_index_key());
  a.push_back(dirty_fields_key());
  a.push_back(p.expected_version == any_version
                ? std::string{}
                : std::to_string(p.expected_version));
  a.push_back(std::to_string(opts.expire_at_ms));
  a.push_back(std::to_string(opts.now_ms));
  a.emplace_back(sid);
  a.push_back(opts.track_dirty ? "1" : "0");
  a.push_back(opts.require_trace ? "1" : "0");
  // Only the last write of each field is sent: within one patch a later
  // write wins, whatever the script's grouping of deletes and sets.
  std::unordered_map<std::string_view, size_t> last;
  last.reserve(p.writes.size());
  for (size_t i = 0; i < p.writes.size(); ++i)
    last[p.writes[i].field] = i;
  for (size_t i = 0; i < p.writes.size(); ++i) {
    const auto& w = p.writes[i];
    if (last[w.field] != i)
      continue;
    a.push_back(w.erase ? "d" : "s");
    a.push_back(w.field);
    a.push_back(w.erase ? std::string{} : w.value);
  }
  return req;
}

outcome<uint64_t> read_apply_patch(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.items.empty())
    return unexpected("apply_patch");
  if (r.items[0] == "-1") {
    auto cur = r.items.size() > 1 ? r.items[1] : std::string{"?"};
    return {errc::version_conflict, "session is at version " + cur};
  }
  return to_u64(r.items[0]);
}

redis_request read_creds(std::string_view sid, bool require_trace) {
  return {redis_script::read_creds,
          2,
          {meta_key(sid), creds_key(sid), require_trace ? "1" : "0"}};
}

outcome<creds_reply> read_read_creds(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.items.size() % 2 != 1)
    return unexpected("read_creds");
  auto version = to_u64(r.items[0]);
  if (!version)
    return version.error();
  creds_reply result;
  result.version = *version;
  result.found = r.items.size() > 1;
  // Values are stored normalized JSON text, so the document is assembled
  // without re-parsing them.
  std::string doc = "{";
  for (size_t i = 1; i + 1 < r.items.size(); i += 2) {
    if (i > 1)
      doc += ',';
    doc += json(r.items[i]).dump();
    doc += ':';
    doc += r.items[i + 1];
  }
  doc += '}';
  result.creds_json = std::move(doc);
  return result;
}

redis_request read_keys(std::string_view sid, std::string_view type,
                        const std::vector<std::string>& ids,
                        bool require_trace) {
  redis_request req{redis_script::read_keys, 2, {}};
  req.args.reserve(3 + ids.size());
  req.args.push_back(meta_key(sid));
  req.args.push_back(keys_key(sid));
  req.args.push_back(require_trace ? "1" : "0");
  for (const auto& id : ids) {
    std::string name{type};
    name += '/';
    name += id;
    req.args.push_back(std::move(name));
  }
  return req;
}

outcome<keys_reply> read_read_keys(const redis_reply& r,
                                   const std::vector<std::string>& ids) {
  if (r.kind != redis_reply::array || r.items.size() != ids.size() + 1
      || r.item_nil.size() != r.items.size())
    return unexpected("read_keys");
  auto version = to_u64(r.items[0]);
  if (!version)
    return version.error();
  keys_reply result;
  result.version = *version;
  for (size_t i = 0; i < ids.size(); ++i)
    if (!r.item_nil[i + 1])
      result.values.emplace(ids[i], r.items[i + 1]);
  return result;
}

redis_request delete_session(std::string_view sid, bool track_dirty,
                             int64_t now_ms, bool require_trace) {
  return {redis_script::delete_session,
          6,
          {meta_key(sid), creds_key(sid), keys_key(sid), outbox_key(sid),
           dirty_index_key(), dirty_fields_key(), std::string{sid},
           track_dirty ? "1" : "0", std::to_string(now_ms),
           require_trace ? "1" : "0"}};
}

outcome<delete_result> read_delete(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.items.size() != 2)
    return unexpected("delete_session");
  auto version = to_u64(r.items[1]);
  if (!version)
    return version.error();
  return delete_result{r.items[0] == "1", *version};
}

namespace {

std::vector<std::string> outbox_keys(std::string_view sid) {
  return {meta_key(sid), creds_key(sid), keys_key(sid), outbox_key(sid)};
}

failure malformed(std::string what) {
  return {errc::invalid_argument, "malformed outbox entry: " + what};
}

} // namespace

redis_request read_dirty(std::string_view sid) {
  return {redis_script::read_dirty, 4, outbox_keys(sid)};
}

redis_request claim_dirty(std::string_view sid, std::string_view token,
                          int64_t lease_ms) {
  redis_request req{redis_script::claim_dirty, 5, outbox_keys(sid)};
  req.args.push_back(lease_key(sid));
  req.args.emplace_back(token);
  req.args.push_back(std::to_string(lease_ms));
  return req;
}

outcome<dirty_read> read_read_dirty(const redis_reply& r,
                                    std::string_view sid) {
  if (r.kind != redis_reply::array || r.items.empty()
      || r.item_nil.size() != r.items.size())
    return unexpected("read_dirty");
  dirty_read result;
  if (r.items[0] == "-2") {
    result.claimed_elsewhere = true;
    return result;
  }
  if ((r.items.size() - 1) % 3 != 0)
    return unexpected("read_dirty");
  auto version = to_u64(r.items[0]);
  if (!version)
    return version.error();
  auto& req = result.request;
  req.session_id = std::string{sid};
  req.version = *version;
  for (size_t i = 1; i < r.items.size(); i += 3) {
    const auto& field = r.items[i];
    auto mark = to_u64(r.items[i + 1]);
    if (!mark)
      return malformed("mark is not a version");
    if (*mark > req.version)
      return malformed("mark newer than the session");
    ++result.marks;
    if (field == "!v") // a patch without writes: the watermark alone
      continue;
    if (field == "!erase") {
      req.erase = true;
      req.erase_version = *mark;
      continue;
    }
    if (field.compare(0, 2, "c:") != 0 && field.compare(0, 2, "k:") != 0)
      return malformed("field without c:/k: prefix");
    bool gone = r.item_nil[i + 2] != 0;
    req.fields.push_back({field, gone, gone ? std::string{} : r.items[i + 2]});
  }
  return result;
}

redis_request clear_dirty(std::string_view sid, uint64_t version,
                          std::string_view token, int64_t now_ms,
                          int64_t ttl_ms) {
  return {redis_script::clear_dirty,
          7,
          {outbox_key(sid), dirty_index_key(), dirty_fields_key(),
           lease_key(sid), meta_key(sid), creds_key(sid), keys_key(sid),
           std::to_string(version), std::string{sid}, std::string{token},
           std::to_string(now_ms), std::to_string(ttl_ms)}};
}

outcome<clear_result> read_clear_dirty(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.items.size() != 2)
    return unexpected("clear_dirty");
  auto cleared = to_u64(r.items[0]);
  auto remaining = to_u64(r.items[1]);
  if (!cleared || !remaining)
    return unexpected("clear_dirty");
  return clear_result{*cleared, *remaining};
}

redis_request hold_claim(std::string_view sid, std::string_view token,
                         int64_t ms) {
  return {redis_script::hold_claim,
          1,
          {lease_key(sid), std::string{token}, std::to_string(ms)}};
}

redis_request dirty_candidates(int64_t dirty_before_ms, size_t offset,
                               size_t count) {
  return {redis_script::none,
          0,
          {"ZRANGEBYSCORE", dirty_index_key(), "-inf",
           "(" + std::to_string(dirty_before_ms), "LIMIT",
           std::to_string(offset), std::to_string(count)}};
}

outcome<std::vector<std::string>> read_candidates(const redis_reply& r) {
  if (r.kind != redis_reply::array)
    return unexpected("dirty candidates");
  return r.items;
}

std::vector<redis_request> quarantine(std::string_view sid, int64_t now_ms) {
  // Added to the quarantine before it leaves the index: a crash in between
  // leaves it in both, never in neither.
  return {
    {redis_script::none,
     0,
     {"ZADD", quarantine_key(), std::to_string(now_ms), std::string{sid}}},
    {redis_script::none, 0, {"ZREM", dirty_index_key(), std::string{sid}}}};
}

redis_request outbox_stats() {
  return {redis_script::outbox_stats,
          3,
          {dirty_index_key(), dirty_fields_key(), quarantine_key()}};
}

outcome<outbox_figures> read_outbox_stats(const redis_reply& r,
                                          int64_t now_ms) {
  if (r.kind != redis_reply::array || r.items.size() != 4)
    return unexpected("outbox_stats");
  outbox_figures x;
  auto sessions = to_u64(r.items[0]);
  auto quarantined = to_u64(r.items[3]);
  // The counter is an INCRBY/DECRBY integer; it can only be negative if
  // someone edited the outbox by hand, which reads as zero here.
  int64_t fields = 0;
  std::from_chars(r.items[1].data(), r.items[1].data() + r.items[1].size(),
                  fields);
  if (!sessions || !quarantined)
    return unexpected("outbox_stats");
  x.sessions = *sessions;
  x.fields = fields > 0 ? static_cast<uint64_t>(fields) : 0;
  x.quarantined = *quarantined;
  if (!r.items[2].empty()) {
    double oldest = std::strtod(r.items[2].c_str(), nullptr);
    x.oldest_age_ms
      = std::max<int64_t>(0, now_ms - static_cast<int64_t>(oldest));
  }
  return x;
}

redis_request sweep_dirty(const std::string& cursor, size_t count,
                          int64_t now_ms) {
  return {redis_script::sweep_dirty,
          2,
          {dirty_index_key(), quarantine_key(), cursor, std::to_string(count),
           std::to_string(now_ms)}};
}

outcome<sweep_result> read_sweep_dirty(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.items.size() != 2)
    return unexpected("sweep_dirty");
  auto added = to_u64(r.items[1]);
  if (!added)
    return added.error();
  return sweep_result{r.items[0], *added};
}

redis_request touch_session(std::string_view sid, int64_t expire_at_ms,
                            bool require_trace) {
  return {redis_script::touch_session,
          4,
          {meta_key(sid), creds_key(sid), keys_key(sid), outbox_key(sid),
           std::to_string(expire_at_ms), require_trace ? "1" : "0"}};
}

redis_request warm_session(std::string_view sid, const session_snapshot& snap,
                           int64_t expire_at_ms) {
  redis_request req{redis_script::warm_session, 4, outbox_keys(sid)};
  req.args.reserve(7 + 2 * snap.fields.size());
  req.args.push_back(std::to_string(expire_at_ms));
  req.args.push_back(std::to_string(snap.version));
  req.args.push_back(snap.found ? "1" : "0");
  for (const auto& w : snap.fields) {
    req.args.push_back(w.field);
    req.args.push_back(w.value);
  }
  return req;
}

outcome<bool> check_snapshot(const session_snapshot& snap) {
  for (const auto& w : snap.fields) {
    if (w.field.size() < 3
        || (w.field.compare(0, 2, "c:") != 0
            && w.field.compare(0, 2, "k:") != 0))
      return {errc::cold_error,
              "the cold store returned a field that is neither c: nor k:"};
    if (w.erase || w.value.empty())
      return {errc::cold_error, "the cold store returned a field without a "
                                "value"};
  }
  return true;
}

bool untraced(const redis_reply& r) {
  return r.kind == redis_reply::array && r.items.size() == 1
         && r.items[0] == "-3";
}

redis_request exists_session(std::string_view sid, bool require_trace) {
  return {redis_script::exists_session,
          1,
          {meta_key(sid), require_trace ? "1" : "0"}};
}

outcome<bool> read_flag(const redis_reply& r) {
  if (r.kind != redis_reply::integer)
    return unexpected("a flag");
  return r.number != 0;
}

} // namespace authstore::redis_layout
