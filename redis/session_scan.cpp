// session_scan.cpp -- see session_scan.hpp.
#include "redis/session_scan.hpp"

#include <charconv>

#include "redis/keys.hpp"

namespace authstore::redis_layout {

namespace {

failure unexpected(std::string_view what) {
  return {errc::hot_error, "unexpected reply shape for " + std::string{what}};
}

bool to_u64(std::string_view text, uint64_t& x) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), x);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

bool is_array(const redis_reply& r) {
  return r.kind == redis_reply::array && r.item_nil.size() == r.items.size();
}

} // namespace

redis_request scan_live_sessions(std::string_view cursor, size_t count) {
  return {redis_script::scan_sessions,
          0,
          {std::string{cursor}, std::to_string(count)}};
}

outcome<scan_page> parse_scan_live_sessions(const redis_reply& r) {
  if (!is_array(r) || r.items.empty())
    return unexpected("scan_sessions");
  scan_page page;
  page.cursor = r.items[0];
  page.sessions.assign(r.items.begin() + 1, r.items.end());
  return page;
}

redis_request read_whole_session(std::string_view sid, size_t max_fields,
                                 size_t max_bytes) {
  return {redis_script::read_session,
          3,
          {meta_key(sid), creds_key(sid), keys_key(sid), "0",
           std::to_string(max_fields), std::to_string(max_bytes)}};
}

outcome<session_snapshot> parse_read_whole_session(const redis_reply& r) {
  if (!is_array(r) || r.items.empty())
    return unexpected("read_session");
  // {-4, fields, bytes}: TOO_LARGE in read_session.lua.
  if (r.items.size() == 3 && r.items[0] == "-4")
    return failure{errc::value_too_large,
                   "the session has " + r.items[1]
                     + " fields: more than one read may carry"};
  uint64_t version = 0, live = 0, creds = 0;
  if (r.items.size() < 3 || (r.items.size() - 3) % 2 != 0
      || !to_u64(r.items[0], version) || !to_u64(r.items[1], live)
      || !to_u64(r.items[2], creds) || creds * 2 > r.items.size() - 3)
    return unexpected("read_session");
  session_snapshot snap;
  snap.version = version;
  snap.found = live == 1;
  for (size_t i = 3; i < r.items.size(); i += 2) {
    bool is_creds = (i - 3) / 2 < creds;
    snap.fields.push_back(
      {(is_creds ? "c:" : "k:") + r.items[i], false, r.items[i + 1]});
  }
  return snap;
}

} // namespace authstore::redis_layout
