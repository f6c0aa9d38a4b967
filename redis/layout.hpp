// layout.hpp -- how a session lives in Redis: the requests that call the
// scripts, and the readers of their replies. CAF-free: builds
// redis_requests and reads redis_replies.
//
// The key names are in redis/keys.hpp (included here: whoever builds a
// request also stamps it with wall_ms()); the scripts are Lua files,
// redis/scripts/<name>.lua, each stating its KEYS, ARGV and reply
// (redis/scripts.hpp). A builder here passes exactly those KEYS and ARGV
// and derives num_keys from the keys it passes. A reader parse_<builder>
// reads that builder's reply into a named result; the sentinel answers that
// replace a payload ({-1, current}, {-2}, {-3}) are named once, as
// script_answer, and a reply of any other shape is hot_error.
//
// Guarantees of apply_patch (one Lua script, so all or nothing): every check
// (expected version, field names) runs before the first write; then writes
// and deletes, version+1, dirty marks, TTL. The script is declared with a
// `#!lua` shebang and no flags, so Redis 7 refuses it up front with OOM under
// `noeviction` rather than half-applying it.
//
// Read-through (with a cold store): Redis is a cache of the cold store, so
// "no meta hash" means "not known here", not "does not exist". Every
// session operation then passes require_trace, and a script that finds no
// meta hash answers script_answer::untraced without touching anything; the
// session actor loads the session from the cold store, fills Redis with
// warm_session, and sends the operation again. Only a clean session has a
// TTL (a dirty one keeps its values until the cold store has them), so an
// expiry never drops a value the cold store lacks.
//
// Size: one header for every script's builder and reader (about 240 lines,
// above the house's 150) because each pair is read together; the outbox
// half is the candidate for a split of its own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/redis_wire.hpp"
#include "redis/keys.hpp"

namespace authstore::redis_layout {

/// How a script answered: its payload, or one of the sentinel answers that
/// stand in for it. Coupled with the Lua: CONFLICT in apply_patch.lua,
/// CLAIMED in claim_dirty.lua, UNTRACED in include/require_trace.lua.
enum class script_answer : uint8_t {
  /// The script's ordinary reply: read it with its parse_ function.
  payload,
  /// apply_patch: the expected version is not the current one; {-1, cur}.
  conflict,
  /// claim_dirty: another reconciler holds the claim; {-2}.
  claimed,
  /// A session script called with require_trace found no meta hash; {-3}.
  untraced,
  /// apply_patch, delete_session: the write's client lease does not hold;
  /// {-4} (include/check_lease.lua).
  fenced,
  /// lease: another holder's lease is live; {-5, expires_in_ms}.
  in_use,
  /// list_key_ids: the keys hash is over the bound; {-6, fields}.
  too_many,
  /// read_session: the session is larger than one read may be; {-7,
  /// fields, bytes}.
  too_large,
  /// own: another holder's ownership record is live; {-8, expires_in_ms,
  /// owner node id} (issue #19).
  owned,
  /// member: another process heartbeats under this node id; {-9,
  /// expires_in_ms}.
  member_in_use,
  /// apply_patch, delete_session: the writer does not own the session
  /// (node ownership, include/check_owner.lua); {-10} (issue #19).
  not_owner,
};

/// Who writes a session, for the node-ownership fence (issue #19,
/// redis/scripts/own.lua): a session actor's process token and its
/// incarnation. An empty token owns nothing: such a write is applied only
/// while no live ownership record exists.
struct owner_token {
  std::string token;
  uint64_t actor = 0;
  bool present() const { return !token.empty(); }
};

/// Which answer `r` is: a sentinel only in its exact shape, else payload.
script_answer answer_of(const redis_reply& r);

/// Options of a write.
struct write_options {
  /// Absolute expiry (ms since epoch) of the hot copy; 0 = no TTL.
  int64_t expire_at_ms = 0;
  /// Wall clock now (ms since epoch), recorded in the dirty index.
  int64_t now_ms = 0;
  /// Record dirty marks for the cold path (false without a cold store).
  bool track_dirty = false;
  /// Answer script_answer::untraced instead of writing when Redis has no
  /// trace of the session.
  bool require_trace = false;
  /// The writer, checked against the session's ownership record (none:
  /// a writer that owns nothing; see owner_token).
  owner_token owner;
};

/// EVALSHA request applying `p` to session `sid`: its writes, and its
/// condition (expected_version or if_absent), replace and min_version.
redis_request apply_patch(std::string_view sid, const patch& p,
                          const write_options& opts);

/// Result of apply_patch: the new version, or version_conflict (with the
/// current version in the detail), or fenced (the patch's lease).
outcome<uint64_t> parse_apply_patch(const redis_reply& r);

/// Request reading all of session `sid` in one script call, refused
/// (script_answer::too_large) above `max_fields` fields or `max_bytes`
/// bytes (patch::payload_bytes' measure).
redis_request read_session(std::string_view sid, size_t max_fields,
                           size_t max_bytes, bool require_trace = false);

/// Result of read_session: creds fields ("c:..") first, then keys
/// ("k:.."), found=false for no live session; value_too_large when the
/// script refused.
outcome<session_snapshot> parse_read_session(const redis_reply& r);

/// Request for one SCAN step over the meta hashes (cursor "0" starts),
/// naming live sessions.
redis_request scan_sessions(std::string_view cursor, size_t count);

/// Result of scan_sessions.
outcome<session_page> parse_scan_sessions(const redis_reply& r);

/// Request reading creds and version (see untraced() for require_trace).
redis_request read_creds(std::string_view sid, bool require_trace = false);

/// Turns the stored value of `field` ("c:<name>" or "k:<type>/<id>") into
/// the value a caller gets: encryption at rest (issue #17) passes
/// crypto::value_cipher::open here, so a value is decrypted at the one place
/// it leaves Redis towards a caller. An empty opener takes values as stored.
/// A failure of the opener is the reader's failure (nothing half-read).
using value_opener = std::function<outcome<std::string>(
  std::string_view field, std::string_view stored)>;

/// Result of read_creds (found=false when no creds field is stored); each
/// value goes through `open` before the document is assembled; hot_error
/// for a field name validate_creds_field refuses (one the store cannot
/// have written).
outcome<creds_reply> parse_read_creds(const redis_reply& r,
                                      const value_opener& open = {});

/// Request reading keys `ids` of `type` and the version.
redis_request read_keys(std::string_view sid, std::string_view type,
                        const std::vector<std::string>& ids,
                        bool require_trace = false);

/// Result of read_keys.
outcome<keys_reply> parse_read_keys(const redis_reply& r,
                                    const std::vector<std::string>& ids);

/// Result of read_keys of `type`, each value through `open`.
outcome<keys_reply> parse_read_keys(const redis_reply& r, std::string_view type,
                                    const std::vector<std::string>& ids,
                                    const value_opener& open);

/// Request deleting a session's hot state. With `track_dirty`, its dirty
/// marks become one erase mark (the cold delete goes through the outbox);
/// without, marks and index entry go.
redis_request delete_session(std::string_view sid, bool track_dirty,
                             int64_t now_ms, bool require_trace = false,
                             const lease_token& lease = {},
                             const owner_token& owner = {});

/// Result of delete_session.
struct delete_result {
  /// Whether a live session existed.
  bool existed = false;
  /// The version the delete got (the next one when a live session
  /// existed; 0 when Redis had no trace).
  uint64_t version = 0;
};

/// Reads delete_session's reply (fenced when its lease did not hold).
outcome<delete_result> parse_delete_session(const redis_reply& r);

// -- key ids and the client lease (issue #14) -------------------------------

/// The most fields a session's keys hash may have for list_key_ids to read
/// it (one HKEYS, about 10-20 ms of Redis time at this size); above it the
/// list is refused with value_too_large instead of blocking Redis.
constexpr size_t max_list_fields = 100'000;

/// Request listing the ids stored for key type `type`.
redis_request list_key_ids(std::string_view sid, std::string_view type,
                           bool require_trace = false,
                           size_t max_fields = max_list_fields);

/// Result of list_key_ids: the ids sorted (value_too_large over the bound).
outcome<key_ids_reply> parse_list_key_ids(const redis_reply& r);

/// Request taking or renewing (takeover: taking over) the client lease
/// for `req.holder`; req.ttl_ms is clamped to [min_lease_ttl_ms,
/// max_lease_ttl_ms] here.
redis_request take_lease(std::string_view sid, const lease_request& req);

/// Result of take_lease; session_in_use (detail "expires in N ms") when
/// another holder's lease is live.
outcome<lease_reply> parse_take_lease(const redis_reply& r);

/// Request releasing `holder`'s client lease (the epoch counter stays).
redis_request release_lease(std::string_view sid, std::string_view holder);

/// Result of release_lease: whether holder held it.
outcome<bool> parse_release_lease(const redis_reply& r);

// -- node ownership and membership (issue #19) -------------------------------

/// Request taking or renewing `who`'s ownership of `sid` for `ttl_ms`
/// (own.lua says who may), recording `node_id` as the owner's name.
redis_request take_ownership(std::string_view sid, const owner_token& who,
                             std::string_view node_id, int64_t ttl_ms);

/// Result of take_ownership.
struct ownership_result {
  /// Whether the caller owns the session now (then epoch and ttl_ms).
  bool owned = false;
  uint64_t epoch = 0;
  int64_t ttl_ms = 0;
  /// Owned: the record was another process's, left to expire (a takeover:
  /// that node died, paused past its lease, or lost Redis).
  bool took_over = false;
  /// Not owned: the live owner's node id and how long its record lasts.
  std::string owner;
  int64_t expires_in_ms = 0;
};

/// Reads take_ownership's reply (owned elsewhere is a result, not an
/// error).
outcome<ownership_result> parse_take_ownership(const redis_reply& r);

/// Request releasing `who`'s ownership of `sid` (the epoch stays).
redis_request release_ownership(std::string_view sid, const owner_token& who);

/// Result of release_ownership: whether `who` held it.
outcome<bool> parse_release_ownership(const redis_reply& r);

/// Request registering (or refreshing) node `node_id` of process `token`
/// at middleman `address` for `ttl_ms`, and reading the live members.
redis_request member_beat(std::string_view node_id, std::string_view token,
                          std::string_view address, int64_t ttl_ms);

/// Request removing this process's registration (clean stop).
redis_request member_leave(std::string_view node_id, std::string_view token);

/// One live member.
struct member_entry {
  std::string node_id;
  std::string address;
  int64_t expires_in_ms = 0;
};

/// Reads member_beat's reply: the live members; invalid_config when
/// another process heartbeats under the node id.
outcome<std::vector<member_entry>> parse_member_beat(const redis_reply& r);

// -- the outbox (issue #5) ---------------------------------------------------

/// What a read of a session's outbox found.
struct dirty_read {
  /// claim_dirty only: another reconciler holds the claim; nothing read.
  bool claimed_elsewhere = false;
  /// Dirty marks read (fields plus the erase mark); 0 = clean.
  size_t marks = 0;
  /// The persist to send: the dirty fields' values (erase = deleted) and
  /// the erase mark, all at request.version.
  persist_request request;
};

/// Request reading the dirty fields' current values and the version, in
/// one script call (the live persist path).
redis_request read_dirty(std::string_view sid);

/// As read_dirty, after taking the session's claim for `token` for
/// `lease_ms` (the reconciler's path).
redis_request claim_dirty(std::string_view sid, std::string_view token,
                          int64_t lease_ms);

/// Reads read_dirty's and claim_dirty's reply. A malformed outbox (a mark
/// that is not a version or is newer than the session, an unknown field)
/// is invalid_argument: the caller quarantines it.
outcome<dirty_read> parse_read_dirty(const redis_reply& r,
                                     std::string_view sid);

/// Request clearing the marks at versions <= `version` after the cold store
/// confirmed it; releases the claim when `token` holds it ("" = no claim).
/// A session left clean gets the hot TTL `ttl_ms` (0 = none).
redis_request clear_dirty(std::string_view sid, uint64_t version,
                          std::string_view token, int64_t now_ms,
                          int64_t ttl_ms = 0);

/// Result of clear_dirty.
struct clear_result {
  uint64_t cleared = 0;
  /// Marks left (written after the persist's read): the session stays dirty.
  uint64_t remaining = 0;
};

/// Reads clear_dirty's reply.
outcome<clear_result> parse_clear_dirty(const redis_reply& r);

/// Request extending (ms > 0) or releasing (ms == 0) a claim held by
/// `token`.
redis_request hold_claim(std::string_view sid, std::string_view token,
                         int64_t ms);

/// Request listing up to `count` dirty sessions that became dirty before
/// `dirty_before_ms`, oldest first, skipping `offset`.
redis_request dirty_candidates(int64_t dirty_before_ms, size_t offset,
                               size_t count);

/// Reads dirty_candidates' reply: session ids.
outcome<std::vector<std::string>> parse_dirty_candidates(const redis_reply& r);

/// Requests moving `sid` from the index to the quarantine, in this order.
std::vector<redis_request> quarantine(std::string_view sid, int64_t now_ms);

/// Request reading the backlog figures.
redis_request outbox_stats();

/// The backlog, as the metrics report it.
struct outbox_figures {
  uint64_t sessions = 0;
  uint64_t fields = 0;
  /// Age of the oldest index entry (0 when empty).
  int64_t oldest_age_ms = 0;
  uint64_t quarantined = 0;
};

/// Reads outbox_stats' reply at wall time `now_ms`.
outcome<outbox_figures> parse_outbox_stats(const redis_reply& r,
                                           int64_t now_ms);

/// Request one SCAN step ("0" starts a pass) re-indexing dirty sessions the
/// index lost.
redis_request sweep_dirty(const std::string& cursor, size_t count,
                          int64_t now_ms);

/// Result of a sweep step.
struct sweep_result {
  /// "0" when the pass is complete.
  std::string cursor;
  /// Sessions that were dirty but missing from the index.
  uint64_t reindexed = 0;
};

/// Reads sweep_dirty's reply.
outcome<sweep_result> parse_sweep_dirty(const redis_reply& r);

/// Request refreshing the TTL (expire_at_ms 0: persist) of an existing
/// session; a dirty session keeps none. Read its reply with parse_flag.
redis_request touch_session(std::string_view sid, int64_t expire_at_ms,
                            bool require_trace = false);

// -- read-through ------------------------------------------------------------

/// Whether `r`, the reply of a session script called with require_trace,
/// says that Redis has no trace of the session (answer_of(r) is
/// script_answer::untraced): it must be loaded from the cold store before
/// the request is sent again.
bool untraced(const redis_reply& r);

/// Checks a snapshot from the cold store before it reaches Redis: field
/// names c:/k:, values present (cold_error otherwise).
outcome<bool> check_snapshot(const session_snapshot& snap);

/// Request filling Redis with `snap` if Redis still has no trace of the
/// session (a not-found snapshot leaves the tombstone {v, d=1}). Read its
/// reply with parse_flag.
redis_request warm_session(std::string_view sid, const session_snapshot& snap,
                           int64_t expire_at_ms);

/// Request asking whether the session exists (read its reply with
/// parse_flag; see untraced() for require_trace).
redis_request exists_session(std::string_view sid, bool require_trace = false);

/// Result of touch_session and exists_session (whether the session
/// exists) and of warm_session (whether it filled Redis).
outcome<bool> parse_flag(const redis_reply& r);

} // namespace authstore::redis_layout
