// keys.hpp -- the names of the keys a session lives in, in Redis, and the
// wall clock the layout stamps. CAF-free.
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
//              and "!erase" -> version a delete happened at, "!v" ->
//                    version of a patch without writes (watermark only)
//   as:{S}:l   string a reconciler's claim on S (owner token, expires)
//   as:{S}:cl  hash  the client lease (one Baileys process per account,
//                    docs/HTTP-API.md): h holder, e epoch, x expiry (ms,
//                    Redis TIME); no TTL, survives a delete (epochs are
//                    never reused). Not issue #19's node-ownership lease,
//                    which gets a key of its own:
//   as:{S}:own hash  node ownership (issue #19, redis/scripts/own.lua): n
//                    node id, t process token, a actor incarnation, e epoch,
//                    x expiry (ms, Redis TIME); no TTL (epochs never reused)
//   as:members       zset  node id -> heartbeat expiry (ms, Redis TIME)
//   as:members:info  hash  node id -> "<process token> <middleman address>"
//   as:dirty   zset  session id -> ms when it became dirty (the index the
//                    reconciler reads; re-stamped when a persist leaves
//                    marks behind). NOT in the session's slot, see
//                    docs/ARCHITECTURE.md "Cluster"
//   as:dirty:fields  integer: dirty marks in all outboxes (backlog gauge)
//   as:quarantine    zset  session id -> ms quarantined (malformed outbox)
//
// The scripts receive every key as KEYS (redis/layout.cpp builds them from
// these functions), except one coupling the compiler cannot check:
// redis/scripts/sweep_dirty.lua finds outboxes by the pattern "as:{*}:o"
// and cuts S out of a key by position. Change both together.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace authstore::redis_layout {

/// The meta hash of a session: version and tombstone flag.
std::string meta_key(std::string_view sid);
/// The creds hash of a session.
std::string creds_key(std::string_view sid);
/// The keys hash of a session ("<type>/<id>" -> value).
std::string keys_key(std::string_view sid);
/// The outbox of a session: its dirty marks.
std::string outbox_key(std::string_view sid);
/// A reconciler's claim on the session.
std::string lease_key(std::string_view sid);
/// The client lease of a session (h holder, e epoch, x expiry).
std::string client_lease_key(std::string_view sid);
/// The node-ownership record of a session (issue #19).
std::string owner_key(std::string_view sid);
/// The cluster's members and their heartbeat expiry.
std::string members_key();
/// The members' process tokens and middleman addresses.
std::string members_info_key();
/// The node-independent index of dirty sessions.
std::string dirty_index_key();
/// The count of dirty marks over all sessions.
std::string dirty_fields_key();
/// Sessions whose outbox could not be read (never dropped, parked here).
std::string quarantine_key();

/// Wall clock now, in ms since the epoch: the time base of every stamp
/// the layout stores (dirty index, quarantine, claims' callers).
int64_t wall_ms();

} // namespace authstore::redis_layout
