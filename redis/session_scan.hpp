// session_scan.hpp -- walking every session in Redis and reading one whole
// (issue #17: authstore rekey and the rekey sweep count and re-seal every
// stored value). CAF-free: builds redis_requests and reads redis_replies.
//
// The scripts are redis/scripts/read_session.lua and scan_sessions.lua,
// the same files as on branch import-export (issue #16), which has its own
// builders and readers for them in redis/layout.*: when both are merged,
// this file's two pairs are the ones to drop in favour of those.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/redis_wire.hpp"

namespace authstore::redis_layout {

/// Request for one SCAN step over the meta hashes ("0" starts a walk),
/// naming live sessions (a session may be named twice in one walk).
redis_request scan_live_sessions(std::string_view cursor, size_t count);

/// One step of the walk.
struct scan_page {
  /// "0" when the walk is complete.
  std::string cursor;
  std::vector<std::string> sessions;
};

/// Reads scan_live_sessions' reply.
outcome<scan_page> parse_scan_live_sessions(const redis_reply& r);

/// Request reading every field of `sid` at one version, refused above
/// `max_fields` fields or `max_bytes` bytes.
redis_request read_whole_session(std::string_view sid, size_t max_fields,
                                 size_t max_bytes);

/// Reads read_whole_session's reply: fields named "c:<name>" and
/// "k:<type>/<id>" with their stored values; found=false for no live
/// session; value_too_large when the script refused.
outcome<session_snapshot> parse_read_whole_session(const redis_reply& r);

} // namespace authstore::redis_layout
