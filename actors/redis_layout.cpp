// redis_layout.cpp -- key names, Lua scripts and reply readers
// (redis_layout.hpp). The scripts are the whole write protocol of the hot
// store: they are the only code that changes a session in Redis.
#include "actors/redis_layout.hpp"

#include <charconv>
#include <unordered_map>

#include "messages/codec.hpp"

namespace authstore::redis_layout {

namespace {

// ARGV: expected ("" = any), expire_at_ms ("0" = none), now_ms, sid,
// track_dirty ("1"/"0"), then triples (op "s"|"d", field, value).
// Returns {version} or {-1, current_version} on a version conflict, or an
// error reply "ERR authstore: bad field" before any write.
constexpr std::string_view apply_patch_lua = R"lua(#!lua
local cur = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if ARGV[1] ~= '' and tonumber(ARGV[1]) ~= cur then
  return {-1, cur}
end
local n = #ARGV
for i = 6, n, 3 do
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
  local i = 1
  while i <= #t do
    redis.call(cmd, key, unpack(t, i, math.min(i + 999, #t)))
    i = i + 1000
  end
end
for i = 6, n, 3 do
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
if track and #marks > 0 then
  flush('HSET', KEYS[4], marks)
  redis.call('ZADD', KEYS[5], 'NX', ARGV[3], ARGV[4])
end
if ARGV[2] ~= '0' then
  for k = 1, 3 do redis.call('PEXPIREAT', KEYS[k], ARGV[2]) end
end
return {v}
)lua";

// Returns {version, field1, value1, ...}.
constexpr std::string_view read_creds_lua = R"lua(#!lua flags=no-writes
local v = redis.call('HGET', KEYS[1], 'v') or '0'
local all = redis.call('HGETALL', KEYS[2])
table.insert(all, 1, v)
return all
)lua";

// ARGV: fields. Returns {version, value-or-nil...}.
constexpr std::string_view read_keys_lua = R"lua(#!lua flags=no-writes
local v = redis.call('HGET', KEYS[1], 'v') or '0'
local vals = redis.call('HMGET', KEYS[2], unpack(ARGV))
table.insert(vals, 1, v)
return vals
)lua";

// ARGV: sid. Returns 1 when the session existed. The meta hash stays as a
// tombstone {v, d=1} so that versions never go backwards across a delete
// and a re-creation (invariant 2); apply_patch clears d.
// allow-oom: deleting must work when Redis is full -- it is how an operator
// frees memory (it adds at most one small tombstone field).
constexpr std::string_view delete_session_lua = R"lua(#!lua flags=allow-oom
local m = redis.call('HMGET', KEYS[1], 'v', 'd')
local existed = (m[1] and not m[2]) and 1 or 0
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
redis.call('ZREM', KEYS[5], ARGV[1])
if m[1] then
  redis.call('HSET', KEYS[1], 'd', '1')
  redis.call('PERSIST', KEYS[1])
end
return existed
)lua";

// ARGV: expire_at_ms ("0" = persist). Returns 1 when the session exists.
// allow-oom: a TTL refresh allocates nothing.
constexpr std::string_view touch_session_lua = R"lua(#!lua flags=allow-oom
local m = redis.call('HMGET', KEYS[1], 'v', 'd')
if (not m[1]) or m[2] then return 0 end
for k = 1, 3 do
  if ARGV[1] == '0' then
    redis.call('PERSIST', KEYS[k])
  else
    redis.call('PEXPIREAT', KEYS[k], ARGV[1])
  end
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
    case redis_script::none:
      break;
  }
  return {};
}

const std::vector<redis_script>& all_scripts() {
  static const std::vector<redis_script> scripts
    = {redis_script::apply_patch, redis_script::read_creds,
       redis_script::read_keys, redis_script::delete_session,
       redis_script::touch_session};
  return scripts;
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

std::string dirty_index_key() {
  return "as:dirty";
}

redis_request apply_patch(std::string_view sid, const patch& p,
                          const write_options& opts) {
  redis_request req;
  req.script = redis_script::apply_patch;
  req.num_keys = 5;
  auto& a = req.args;
  a.reserve(10 + 3 * p.writes.size());
  a.push_back(meta_key(sid));
  a.push_back(creds_key(sid));
  a.push_back(keys_key(sid));
  a.push_back(outbox_key(sid));
  a.push_back(dirty_index_key());
  a.push_back(p.expected_version == any_version
                ? std::string{}
                : std::to_string(p.expected_version));
  a.push_back(std::to_string(opts.expire_at_ms));
  a.push_back(std::to_string(opts.now_ms));
  a.emplace_back(sid);
  a.push_back(opts.track_dirty ? "1" : "0");
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

redis_request read_creds(std::string_view sid) {
  return {redis_script::read_creds, 2, {meta_key(sid), creds_key(sid)}};
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
                        const std::vector<std::string>& ids) {
  redis_request req{redis_script::read_keys, 2, {}};
  req.args.reserve(2 + ids.size());
  req.args.push_back(meta_key(sid));
  req.args.push_back(keys_key(sid));
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

redis_request delete_session(std::string_view sid) {
  return {redis_script::delete_session,
          5,
          {meta_key(sid), creds_key(sid), keys_key(sid), outbox_key(sid),
           dirty_index_key(), std::string{sid}}};
}

redis_request touch_session(std::string_view sid, int64_t expire_at_ms) {
  return {redis_script::touch_session,
          3,
          {meta_key(sid), creds_key(sid), keys_key(sid),
           std::to_string(expire_at_ms)}};
}

redis_request exists_session(std::string_view sid) {
  return {redis_script::none, 0, {"HMGET", meta_key(sid), "v", "d"}};
}

outcome<bool> read_exists(const redis_reply& r) {
  if (r.kind != redis_reply::array || r.item_nil.size() != 2)
    return unexpected("exists");
  return r.item_nil[0] == 0 && r.item_nil[1] == 1;
}

outcome<bool> read_flag(const redis_reply& r) {
  if (r.kind != redis_reply::integer)
    return unexpected("a flag");
  return r.number != 0;
}

} // namespace authstore::redis_layout
