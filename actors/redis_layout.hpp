// redis_layout.hpp -- how a session lives in Redis, and the scripts that
// change it. CAF-free: builds redis_requests and reads redis_replies.
//
// Keys of session S (all share the hash tag {S}, so one script call stays in
// one Redis Cluster slot; session ids never contain braces):
//   as:{S}:m   hash  v -> version; d -> 1 after a delete (a tombstone that
//                    keeps versions monotonic across delete + re-create)
//   as:{S}:c   hash  creds field -> JSON value
//   as:{S}:k   hash  "<type>/<id>" -> JSON value
//   as:{S}:o   hash  outbox: field name ("c:.."/"k:..") -> version that last
//                    wrote it (dirty marks for the cold path; no values, so
//                    no second plaintext copy of key material)
//   as:dirty   zset  session id -> ms when it first became dirty (the index
//                    the reconciler reads; NOT in the session's slot, see
//                    docs/ARCHITECTURE.md "Cluster")
//
// Guarantees of apply_patch (one Lua script, so all or nothing): every check
// (expected version, field names) runs before the first write; then writes
// and deletes, version+1, dirty marks, TTL. The script is declared with a
// `#!lua` shebang and no flags, so Redis 7 refuses it up front with OOM under
// `noeviction` rather than half-applying it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/redis_wire.hpp"

namespace authstore::redis_layout {

/// Source text of a script (what SCRIPT LOAD receives).
std::string_view script_source(redis_script which);

/// Every script, for loading at connect.
const std::vector<redis_script>& all_scripts();

/// Key names of one session.
std::string meta_key(std::string_view sid);
std::string creds_key(std::string_view sid);
std::string keys_key(std::string_view sid);
std::string outbox_key(std::string_view sid);
/// The node-independent index of dirty sessions.
std::string dirty_index_key();

/// Options of a write.
struct write_options {
  /// Absolute expiry (ms since epoch) of the hot copy; 0 = no TTL.
  int64_t expire_at_ms = 0;
  /// Wall clock now (ms since epoch), recorded in the dirty index.
  int64_t now_ms = 0;
  /// Record dirty marks for the cold path (false without a cold store).
  bool track_dirty = false;
};

/// EVALSHA request applying `p` to session `sid`.
redis_request apply_patch(std::string_view sid, const patch& p,
                          const write_options& opts);

/// Result of apply_patch: the new version, or version_conflict (with the
/// current version in the detail).
outcome<uint64_t> read_apply_patch(const redis_reply& r);

/// Request reading creds and version.
redis_request read_creds(std::string_view sid);

/// Result of read_creds (found=false when no creds field is stored).
outcome<creds_reply> read_read_creds(const redis_reply& r);

/// Request reading keys `ids` of `type` and the version.
redis_request read_keys(std::string_view sid, std::string_view type,
                        const std::vector<std::string>& ids);

/// Result of read_keys.
outcome<keys_reply> read_read_keys(const redis_reply& r,
                                   const std::vector<std::string>& ids);

/// Request deleting a session (all its keys, dirty marks and index entry).
redis_request delete_session(std::string_view sid);

/// Request refreshing the TTL (expire_at_ms 0: persist) of an existing
/// session.
redis_request touch_session(std::string_view sid, int64_t expire_at_ms);

/// Request asking whether the session exists.
redis_request exists_session(std::string_view sid);

/// Result of exists_session.
outcome<bool> read_exists(const redis_reply& r);

/// Result of delete/touch: whether the session existed.
outcome<bool> read_flag(const redis_reply& r);

} // namespace authstore::redis_layout
