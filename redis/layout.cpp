// layout.cpp -- request builders and reply readers (redis/layout.hpp).
// The scripts they call (redis/scripts/*.lua) are the whole write protocol
// of the hot store: the only code that changes a session in Redis. Each
// builder passes the KEYS and ARGV its script's comment block lists, in that
// order; a change to one is a change to both.
#include "redis/layout.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <unordered_map>

#include "messages/codec.hpp"

namespace authstore::redis_layout {

namespace {

/// The numbers a script answers instead of its payload, as the first
/// element of an array of `size` elements. Named here once for C++ and once
/// in Lua (CONFLICT in apply_patch.lua, CLAIMED in claim_dirty.lua,
/// UNTRACED in include/require_trace.lua); tests/redis/lua_*_redistest.cpp
/// check that both ends agree. Payloads never start with a negative number
/// (versions and counts), so a sentinel cannot be mistaken for one.
struct sentinel {
  int64_t number;
  size_t size;
  script_answer answer;
};
constexpr sentinel sentinels[] = {
  {-1, 2, script_answer::conflict},      {-2, 1, script_answer::claimed},
  {-3, 1, script_answer::untraced},      {-4, 1, script_answer::fenced},
  {-5, 2, script_answer::in_use},        {-6, 2, script_answer::too_many},
  {-7, 3, script_answer::too_large},     {-8, 3, script_answer::owned},
  {-9, 2, script_answer::member_in_use}, {-10, 1, script_answer::not_owner},
};

/// A script call: num_keys is the number of `keys`, so it cannot drift
/// from the keys actually passed.
redis_request script_call(redis_script which, std::vector<std::string> keys,
                          std::vector<std::string> args = {}) {
  redis_request req{which, static_cast<uint32_t>(keys.size()), std::move(keys)};
  req.args.insert(req.args.end(), std::make_move_iterator(args.begin()),
                  std::make_move_iterator(args.end()));
  return req;
}

/// KEYS[1..4] of the session scripts: meta, creds, keys, outbox.
std::vector<std::string> session_keys(std::string_view sid) {
  return {meta_key(sid), creds_key(sid), keys_key(sid), outbox_key(sid)};
}

/// A boolean ARGV: the scripts compare with '1'.
std::string flag(bool on) {
  return on ? "1" : "0";
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

failure fenced_failure() {
  return {errc::fenced,
          "the write's lease does not hold (taken over by another holder, "
          "expired, released, or never taken); nothing applied: open the "
          "session again"};
}

failure not_owner_failure() {
  return {errc::not_owner,
          "this node does not own the session (node ownership, issue #19); "
          "nothing applied"};
}

/// Whether `r` is an array whose nil flags cover its items (every reader
/// that looks at item_nil needs both).
bool is_array(const redis_reply& r) {
  return r.kind == redis_reply::array && r.item_nil.size() == r.items.size();
}

/// `r` as the payload of `what`: an array that is not a sentinel answer.
bool is_payload_array(const redis_reply& r) {
  return is_array(r) && answer_of(r) == script_answer::payload;
}

} // namespace

script_answer answer_of(const redis_reply& r) {
  if (!is_array(r) || r.items.empty() || r.item_nil[0])
    return script_answer::payload;
  const auto& head = r.items[0];
  int64_t number = 0;
  auto [ptr, ec]
    = std::from_chars(head.data(), head.data() + head.size(), number);
  if (ec != std::errc{} || ptr != head.data() + head.size())
    return script_answer::payload;
  for (const auto& s : sentinels)
    if (s.number == number && s.size == r.items.size())
      return s.answer;
  return script_answer::payload;
}

bool untraced(const redis_reply& r) {
  return answer_of(r) == script_answer::untraced;
}

redis_request apply_patch(std::string_view sid, const patch& p,
                          const write_options& opts) {
  auto keys = session_keys(sid);
  keys.push_back(dirty_index_key());
  keys.push_back(dirty_fields_key());
  keys.push_back(client_lease_key(sid));
  keys.push_back(owner_key(sid));
  std::vector<std::string> a;
  a.reserve(11 + 3 * p.writes.size());
  a.push_back(p.if_absent ? std::string{"absent"}
              : p.expected_version == any_version
                ? std::string{}
                : std::to_string(p.expected_version));
  a.push_back(std::to_string(opts.expire_at_ms));
  a.push_back(std::to_string(opts.now_ms));
  a.emplace_back(sid);
  a.push_back(flag(opts.track_dirty));
  a.push_back(flag(opts.require_trace));
  // The options triple only when an option is on: a plain patch is called
  // exactly as before the options existed (apply_patch.lua).
  if (p.replace || p.min_version > 0) {
    a.emplace_back("!");
    a.push_back(flag(p.replace));
    a.push_back(std::to_string(p.min_version));
  }
  // The owner triple only from an owner (apply_patch.lua, check_owner.lua).
  if (opts.owner.present()) {
    a.emplace_back("@");
    a.push_back(opts.owner.token);
    a.push_back(std::to_string(opts.owner.actor));
  }
  // Only the last write of each field is sent: within one patch a later
  // write wins, whatever the script's grouping of deletes and sets.
  // A patch of a few writes (the usual) is compared pairwise: no map, no
  // allocation (issue #18).
  constexpr size_t small_patch = 8;
  const auto n = p.writes.size();
  std::unordered_map<std::string_view, size_t> last;
  if (n > small_patch) {
    last.reserve(n);
    for (size_t i = 0; i < n; ++i)
      last[p.writes[i].field] = i;
  }
  auto is_last = [&](size_t i) {
    if (n > small_patch)
      return last[p.writes[i].field] == i;
    for (size_t j = i + 1; j < n; ++j)
      if (p.writes[j].field == p.writes[i].field)
        return false;
    return true;
  };
  for (size_t i = 0; i < n; ++i) {
    const auto& w = p.writes[i];
    if (!is_last(i))
      continue;
    a.push_back(w.erase ? "d" : "s");
    a.push_back(w.field);
    a.push_back(w.erase ? std::string{} : w.value);
  }
  // The lease goes last (apply_patch.lua: the last two ARGV).
  a.push_back(p.lease.holder);
  a.push_back(std::to_string(p.lease.epoch));
  return script_call(redis_script::apply_patch, std::move(keys), std::move(a));
}

outcome<uint64_t> parse_apply_patch(const redis_reply& r) {
  switch (answer_of(r)) {
    case script_answer::payload:
      if (!is_array(r) || r.items.size() != 1)
        return unexpected("apply_patch");
      return to_u64(r.items[0]);
    case script_answer::conflict:
      if (auto cur = to_u64(r.items[1]))
        return {errc::version_conflict,
                "session is at version " + std::to_string(*cur)};
      return unexpected("apply_patch");
    case script_answer::fenced:
      return fenced_failure();
    case script_answer::not_owner:
      return not_owner_failure();
    default:
      break;
  }
  return unexpected("apply_patch");
}

redis_request read_session(std::string_view sid, size_t max_fields,
                           size_t max_bytes, bool require_trace) {
  return script_call(redis_script::read_session,
                     {meta_key(sid), creds_key(sid), keys_key(sid)},
                     {flag(require_trace), std::to_string(max_fields),
                      std::to_string(max_bytes)});
}

outcome<session_snapshot> parse_read_session(const redis_reply& r) {
  if (answer_of(r) == script_answer::too_large) {
    auto fields = to_u64(r.items[1]);
    auto bytes = to_u64(r.items[2]);
    if (!fields || !bytes)
      return unexpected("read_session");
    return {errc::value_too_large,
            "the session has " + std::to_string(*fields) + " fields"
              + (*bytes > 0 ? " and " + std::to_string(*bytes) + " bytes"
                            : std::string{})
              + ", more than one atomic read or write may carry (raise "
                "codec.max-writes / codec.max-patch-bytes)"};
  }
  if (!is_payload_array(r) || r.items.size() < 3
      || (r.items.size() - 3) % 2 != 0)
    return unexpected("read_session");
  auto version = to_u64(r.items[0]);
  auto live = to_u64(r.items[1]);
  auto creds = to_u64(r.items[2]);
  if (!version || !live || *live > 1 || !creds
      || *creds > (r.items.size() - 3) / 2)
    return unexpected("read_session");
  session_snapshot snap;
  snap.version = *version;
  snap.found = *live == 1;
  snap.fields.reserve((r.items.size() - 3) / 2);
  for (size_t i = 3, n = 0; i + 1 < r.items.size(); i += 2, ++n) {
    std::string name = n < *creds ? "c:" : "k:";
    name += r.items[i];
    snap.fields.push_back({std::move(name), false, r.items[i + 1]});
  }
  return snap;
}

redis_request scan_sessions(std::string_view cursor, size_t count) {
  return script_call(redis_script::scan_sessions, {},
                     {std::string{cursor}, std::to_string(count)});
}

outcome<session_page> parse_scan_sessions(const redis_reply& r) {
  if (!is_payload_array(r) || r.items.empty())
    return unexpected("scan_sessions");
  session_page page;
  page.cursor = r.items[0];
  page.ids.assign(r.items.begin() + 1, r.items.end());
  return page;
}

redis_request read_creds(std::string_view sid, bool require_trace) {
  return script_call(redis_script::read_creds, {meta_key(sid), creds_key(sid)},
                     {flag(require_trace)});
}

outcome<creds_reply> parse_read_creds(const redis_reply& r,
                                      const value_opener& open) {
  if (!is_payload_array(r) || r.items.size() % 2 != 1)
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
    // A name the store cannot have written (not UTF-8, too long) cannot be
    // a JSON key either: dump() would throw (issue #17, found by fuzzing).
    if (!validate_creds_field(r.items[i]))
      return failure{errc::hot_error,
                     "Redis holds a creds field name the store cannot have "
                     "written (not 1..128 bytes of UTF-8 text)"};
    if (i > 1)
      doc += ',';
    doc += json(r.items[i]).dump();
    doc += ':';
    if (!open) {
      doc += r.items[i + 1];
      continue;
    }
    auto value = open(creds_field_name(r.items[i]), r.items[i + 1]);
    if (!value)
      return value.error();
    doc += *value;
  }
  doc += '}';
  result.creds_json = std::move(doc);
  return result;
}

redis_request read_keys(std::string_view sid, std::string_view type,
                        const std::vector<std::string>& ids,
                        bool require_trace) {
  std::vector<std::string> a;
  a.reserve(1 + ids.size());
  a.push_back(flag(require_trace));
  for (const auto& id : ids) {
    std::string name{type};
    name += '/';
    name += id;
    a.push_back(std::move(name));
  }
  return script_call(redis_script::read_keys, {meta_key(sid), keys_key(sid)},
                     std::move(a));
}

outcome<keys_reply> parse_read_keys(const redis_reply& r,
                                    const std::vector<std::string>& ids) {
  return parse_read_keys(r, {}, ids, {});
}

outcome<keys_reply> parse_read_keys(const redis_reply& r, std::string_view type,
                                    const std::vector<std::string>& ids,
                                    const value_opener& open) {
  if (!is_payload_array(r) || r.items.size() != ids.size() + 1)
    return unexpected("read_keys");
  auto version = to_u64(r.items[0]);
  if (!version)
    return version.error();
  keys_reply result;
  result.version = *version;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (r.item_nil[i + 1])
      continue;
    if (!open) {
      result.values.emplace(ids[i], r.items[i + 1]);
      continue;
    }
    auto value = open(key_field_name(type, ids[i]), r.items[i + 1]);
    if (!value)
      return value.error();
    result.values.emplace(ids[i], std::move(*value));
  }
  return result;
}

redis_request delete_session(std::string_view sid, bool track_dirty,
                             int64_t now_ms, bool require_trace,
                             const lease_token& lease,
                             const owner_token& owner) {
  auto keys = session_keys(sid);
  keys.push_back(dirty_index_key());
  keys.push_back(dirty_fields_key());
  keys.push_back(client_lease_key(sid));
  keys.push_back(owner_key(sid));
  return script_call(redis_script::delete_session, std::move(keys),
                     {std::string{sid}, flag(track_dirty),
                      std::to_string(now_ms), flag(require_trace), lease.holder,
                      std::to_string(lease.epoch), owner.token,
                      std::to_string(owner.actor)});
}

outcome<delete_result> parse_delete_session(const redis_reply& r) {
  if (answer_of(r) == script_answer::fenced)
    return fenced_failure();
  if (answer_of(r) == script_answer::not_owner)
    return not_owner_failure();
  if (!is_payload_array(r) || r.items.size() != 2)
    return unexpected("delete_session");
  auto existed = to_u64(r.items[0]);
  auto version = to_u64(r.items[1]);
  if (!existed || *existed > 1 || !version)
    return unexpected("delete_session");
  return delete_result{*existed == 1, *version};
}

redis_request list_key_ids(std::string_view sid, std::string_view type,
                           bool require_trace, size_t max_fields) {
  return script_call(
    redis_script::list_key_ids, {meta_key(sid), keys_key(sid)},
    {flag(require_trace), std::string{type}, std::to_string(max_fields)});
}

outcome<key_ids_reply> parse_list_key_ids(const redis_reply& r) {
  if (answer_of(r) == script_answer::too_many) {
    auto n = to_u64(r.items[1]);
    return {errc::value_too_large,
            "the session has " + (n ? std::to_string(*n) : std::string{"?"})
              + " keys, more than the " + std::to_string(max_list_fields)
              + " a list reads in one Redis call"};
  }
  if (!is_payload_array(r) || r.items.empty())
    return unexpected("list_key_ids");
  auto version = to_u64(r.items[0]);
  if (!version)
    return version.error();
  key_ids_reply result;
  result.version = *version;
  result.ids.assign(std::next(r.items.begin()), r.items.end());
  std::sort(result.ids.begin(), result.ids.end());
  return result;
}

redis_request take_lease(std::string_view sid, const lease_request& req) {
  auto ttl = std::clamp(req.ttl_ms, min_lease_ttl_ms, max_lease_ttl_ms);
  return script_call(
    redis_script::lease, {client_lease_key(sid)},
    {req.takeover ? "takeover" : "take", req.holder, std::to_string(ttl)});
}

outcome<lease_reply> parse_take_lease(const redis_reply& r) {
  if (answer_of(r) == script_answer::in_use) {
    auto ms = to_u64(r.items[1]);
    return {errc::session_in_use,
            "another holder's lease on the session is live, expires in "
              + (ms ? std::to_string(*ms) : std::string{"?"})
              + " ms; ask for a takeover to fence it"};
  }
  if (!is_payload_array(r) || r.items.size() != 2)
    return unexpected("lease");
  auto epoch = to_u64(r.items[0]);
  auto ttl = to_u64(r.items[1]);
  if (!epoch || !ttl || *epoch == 0)
    return unexpected("lease");
  return lease_reply{*epoch, static_cast<int64_t>(*ttl)};
}

redis_request release_lease(std::string_view sid, std::string_view holder) {
  return script_call(redis_script::lease, {client_lease_key(sid)},
                     {"release", std::string{holder}, "0"});
}

outcome<bool> parse_release_lease(const redis_reply& r) {
  if (!is_payload_array(r) || r.items.size() != 1
      || (r.items[0] != "0" && r.items[0] != "1"))
    return unexpected("lease");
  return r.items[0] == "1";
}

redis_request take_ownership(std::string_view sid, const owner_token& who,
                             std::string_view node_id, int64_t ttl_ms) {
  return script_call(redis_script::own, {owner_key(sid)},
                     {"take", who.token, std::to_string(who.actor),
                      std::string{node_id}, std::to_string(ttl_ms)});
}

outcome<ownership_result> parse_take_ownership(const redis_reply& r) {
  ownership_result result;
  if (answer_of(r) == script_answer::owned) {
    auto ms = to_u64(r.items[1]);
    if (!ms)
      return unexpected("own");
    result.expires_in_ms = static_cast<int64_t>(*ms);
    result.owner = r.items[2];
    return result;
  }
  if (!is_payload_array(r) || r.items.size() != 3
      || (r.items[2] != "0" && r.items[2] != "1"))
    return unexpected("own");
  auto epoch = to_u64(r.items[0]);
  auto ttl = to_u64(r.items[1]);
  if (!epoch || !ttl || *epoch == 0)
    return unexpected("own");
  result.owned = true;
  result.took_over = r.items[2] == "1";
  result.epoch = *epoch;
  result.ttl_ms = static_cast<int64_t>(*ttl);
  return result;
}

redis_request release_ownership(std::string_view sid, const owner_token& who) {
  return script_call(redis_script::own, {owner_key(sid)},
                     {"release", who.token, std::to_string(who.actor)});
}

outcome<bool> parse_release_ownership(const redis_reply& r) {
  if (!is_payload_array(r) || r.items.size() != 1
      || (r.items[0] != "0" && r.items[0] != "1"))
    return unexpected("own");
  return r.items[0] == "1";
}

redis_request member_beat(std::string_view node_id, std::string_view token,
                          std::string_view address, int64_t ttl_ms) {
  return script_call(redis_script::member, {members_key(), members_info_key()},
                     {"beat", std::string{node_id}, std::string{token},
                      std::string{address}, std::to_string(ttl_ms)});
}

redis_request member_leave(std::string_view node_id, std::string_view token) {
  return script_call(redis_script::member, {members_key(), members_info_key()},
                     {"leave", std::string{node_id}, std::string{token}});
}

outcome<std::vector<member_entry>> parse_member_beat(const redis_reply& r) {
  if (answer_of(r) == script_answer::member_in_use) {
    auto ms = to_u64(r.items[1]);
    return {errc::invalid_config,
            "another process heartbeats under this cluster.node-id (its entry "
            "expires in "
              + (ms ? std::to_string(*ms) : std::string{"?"})
              + " ms): give each node an id of its own"};
  }
  if (!is_payload_array(r) || r.items.empty() || (r.items.size() - 1) % 3 != 0)
    return unexpected("member");
  std::vector<member_entry> members;
  for (size_t i = 1; i < r.items.size(); i += 3) {
    auto ms = to_u64(r.items[i + 2]);
    if (!ms)
      return unexpected("member");
    members.push_back({r.items[i], r.items[i + 1], static_cast<int64_t>(*ms)});
  }
  return members;
}

namespace {

failure malformed(std::string what) {
  return {errc::invalid_argument, "malformed outbox entry: " + what};
}

} // namespace

redis_request read_dirty(std::string_view sid) {
  return script_call(redis_script::read_dirty, session_keys(sid));
}

redis_request claim_dirty(std::string_view sid, std::string_view token,
                          int64_t lease_ms) {
  auto keys = session_keys(sid);
  keys.push_back(lease_key(sid));
  return script_call(redis_script::claim_dirty, std::move(keys),
                     {std::string{token}, std::to_string(lease_ms)});
}

outcome<dirty_read> parse_read_dirty(const redis_reply& r,
                                     std::string_view sid) {
  dirty_read result;
  if (answer_of(r) == script_answer::claimed) {
    result.claimed_elsewhere = true;
    return result;
  }
  if (!is_payload_array(r) || r.items.empty() || (r.items.size() - 1) % 3 != 0)
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
    if (!is_creds_field(field) && !is_key_field(field))
      return malformed("field without c:/k: prefix");
    bool gone = r.item_nil[i + 2] != 0;
    req.fields.push_back({field, gone, gone ? std::string{} : r.items[i + 2]});
  }
  return result;
}

redis_request clear_dirty(std::string_view sid, uint64_t version,
                          std::string_view token, int64_t now_ms,
                          int64_t ttl_ms) {
  return script_call(
    redis_script::clear_dirty,
    {outbox_key(sid), dirty_index_key(), dirty_fields_key(), lease_key(sid),
     meta_key(sid), creds_key(sid), keys_key(sid)},
    {std::to_string(version), std::string{sid}, std::string{token},
     std::to_string(now_ms), std::to_string(ttl_ms)});
}

outcome<clear_result> parse_clear_dirty(const redis_reply& r) {
  if (!is_payload_array(r) || r.items.size() != 2)
    return unexpected("clear_dirty");
  auto cleared = to_u64(r.items[0]);
  auto remaining = to_u64(r.items[1]);
  if (!cleared || !remaining)
    return unexpected("clear_dirty");
  return clear_result{*cleared, *remaining};
}

redis_request hold_claim(std::string_view sid, std::string_view token,
                         int64_t ms) {
  return script_call(redis_script::hold_claim, {lease_key(sid)},
                     {std::string{token}, std::to_string(ms)});
}

redis_request dirty_candidates(int64_t dirty_before_ms, size_t offset,
                               size_t count) {
  return {redis_script::none,
          0,
          {"ZRANGEBYSCORE", dirty_index_key(), "-inf",
           "(" + std::to_string(dirty_before_ms), "LIMIT",
           std::to_string(offset), std::to_string(count)}};
}

outcome<std::vector<std::string>> parse_dirty_candidates(const redis_reply& r) {
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
  return script_call(redis_script::outbox_stats,
                     {dirty_index_key(), dirty_fields_key(), quarantine_key()});
}

outcome<outbox_figures> parse_outbox_stats(const redis_reply& r,
                                           int64_t now_ms) {
  if (!is_payload_array(r) || r.items.size() != 4)
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
    // The score is a double (wall ms). A score that is not a number or lies
    // outside int64 (a foreign writer; a ZADD of 1e300) must not reach a
    // cast, which would be undefined: the age is taken in double, then
    // clamped to 0..INT64_MAX (issue #17, found by fuzzing).
    double age
      = static_cast<double>(now_ms) - std::strtod(r.items[2].c_str(), nullptr);
    if (std::isnan(age) || age <= 0)
      x.oldest_age_ms = 0;
    else if (age >= 0x1p63)
      x.oldest_age_ms = INT64_MAX;
    else
      x.oldest_age_ms = static_cast<int64_t>(age);
  }
  return x;
}

redis_request sweep_dirty(const std::string& cursor, size_t count,
                          int64_t now_ms) {
  return script_call(redis_script::sweep_dirty,
                     {dirty_index_key(), quarantine_key()},
                     {cursor, std::to_string(count), std::to_string(now_ms)});
}

outcome<sweep_result> parse_sweep_dirty(const redis_reply& r) {
  if (!is_payload_array(r) || r.items.size() != 2)
    return unexpected("sweep_dirty");
  auto added = to_u64(r.items[1]);
  if (!added)
    return added.error();
  return sweep_result{r.items[0], *added};
}

redis_request touch_session(std::string_view sid, int64_t expire_at_ms,
                            bool require_trace) {
  return script_call(redis_script::touch_session, session_keys(sid),
                     {std::to_string(expire_at_ms), flag(require_trace)});
}

redis_request warm_session(std::string_view sid, const session_snapshot& snap,
                           int64_t expire_at_ms) {
  std::vector<std::string> a;
  a.reserve(3 + 2 * snap.fields.size());
  a.push_back(std::to_string(expire_at_ms));
  a.push_back(std::to_string(snap.version));
  a.push_back(flag(snap.found));
  for (const auto& w : snap.fields) {
    a.push_back(w.field);
    a.push_back(w.value);
  }
  return script_call(redis_script::warm_session, session_keys(sid),
                     std::move(a));
}

outcome<bool> check_snapshot(const session_snapshot& snap) {
  for (const auto& w : snap.fields) {
    if (w.field.size() < 3
        || (!is_creds_field(w.field) && !is_key_field(w.field)))
      return {errc::cold_error,
              "the cold store returned a field that is neither c: nor k:"};
    if (w.erase || w.value.empty())
      return {errc::cold_error, "the cold store returned a field without a "
                                "value"};
  }
  return true;
}

redis_request exists_session(std::string_view sid, bool require_trace) {
  return script_call(redis_script::exists_session, {meta_key(sid)},
                     {flag(require_trace)});
}

outcome<bool> parse_flag(const redis_reply& r) {
  if (r.kind != redis_reply::integer)
    return unexpected("a flag");
  return r.number != 0;
}

} // namespace authstore::redis_layout
