// model.hpp -- the Baileys auth-state data model as the store sees it.
//
// A session is one `creds` document (top-level fields, shallow-merged) and a
// flat map (type, id) -> value of Signal keys. Values are Baileys JSON text,
// already normalized by the codec (codec.hpp) to the v7 Buffer form.
//
// Every (creds field | key) is addressed by one *field name*, the unit of
// writes, dirty marks and cold-store documents:
//   creds field "me"          -> "c:me"
//   key (pre-key, "17")       -> "k:pre-key/17"
// Key types are restricted to [A-Za-z0-9._-]{1,64}, so the first '/' after
// "k:" always separates type from id; ids are any non-empty string up to 256
// bytes (ids such as "123@s.whatsapp.net::0" contain dots and colons).
// Creds field names are 1..128 bytes of UTF-8 text (keys of a JSON
// document).
//
// The structs here cross actor boundaries and the middleman; their inspect()
// templates are CAF-free (generic over the inspector) so this header stays
// cheap to include. messages/interfaces.hpp registers them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/limits.hpp"

namespace authstore {

/// Baileys v7's ten key types. Unknown (future) types are accepted too and
/// pass through untouched; this list documents and tests the known ones.
extern const std::vector<std::string> baileys_key_types;

/// Longest key type name, in bytes.
constexpr size_t max_key_type_bytes = 64;

/// Longest key id, in bytes.
constexpr size_t max_key_id_bytes = 256;

/// Longest creds field name, in bytes.
constexpr size_t max_creds_field_bytes = 128;

/// Sentinel for "no expected-version condition".
constexpr uint64_t any_version = UINT64_MAX;

/// Checks a key type name ([A-Za-z0-9._-]{1,64}).
outcome<bool> validate_key_type(std::string_view type);

/// Checks a key id (1..256 bytes, no NUL).
outcome<bool> validate_key_id(std::string_view id);

/// Checks a creds field name (1..128 bytes of UTF-8, no NUL): a key of the
/// creds document every read assembles.
outcome<bool> validate_creds_field(std::string_view name);

/// "c:" + name.
std::string creds_field_name(std::string_view name);

/// "k:" + type + "/" + id.
std::string key_field_name(std::string_view type, std::string_view id);

/// Whether `field` names a creds field ("c:..."). Only the prefix is
/// checked; validate_patch checks the rest.
bool is_creds_field(std::string_view field);

/// Whether `field` names a key ("k:...").
bool is_key_field(std::string_view field);

/// What follows the prefix of a creds or key field: the creds field name,
/// or "type/id"; empty for any other string.
std::string_view field_subject(std::string_view field);

/// The type and id of a key field ("k:type/id", split at the first '/');
/// false for anything else.
bool split_key_field(std::string_view field, std::string_view& type,
                     std::string_view& id);

/// One write of one field: upsert `value` (normalized JSON text), or erase.
struct field_write {
  std::string field;
  bool erase = false;
  std::string value;

  friend bool operator==(const field_write& a, const field_write& b) {
    return a.field == b.field && a.erase == b.erase && a.value == b.value;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, field_write& x) {
  return f(x.field, x.erase, x.value);
}

/// The client lease a write carries (docs/HTTP-API.md, Leases): the write
/// is applied only while the session's stored lease has this holder and
/// epoch and has not expired, checked in the same Lua script as the write
/// (redis/scripts/include/check_lease.lua). An empty holder: no lease, the
/// write is not fenced.
struct lease_token {
  std::string holder;
  uint64_t epoch = 0;

  /// Whether the write carries a lease at all.
  bool present() const { return !holder.empty(); }

  friend bool operator==(const lease_token& a, const lease_token& b) {
    return a.holder == b.holder && a.epoch == b.epoch;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_token& x) {
  return f(x.holder, x.epoch);
}

/// What one `set` changes, atomically: creds fields and keys of any number of
/// types. Fields not named are untouched. A later write of the same field in
/// one patch wins (as Baileys' own merge does).
struct patch {
  std::vector<field_write> writes;
  /// Apply only when the session's version equals this (optimistic lock);
  /// any_version disables the check. Version 0 means "does not exist yet".
  uint64_t expected_version = any_version;
  /// Apply only when no live session exists: never written, or deleted (a
  /// tombstone, whose version is not 0). Checked inside the write's script,
  /// so two importers cannot both create a session (`import` without
  /// --replace). Not with expected_version or replace.
  bool if_absent = false;
  /// Drop the session's creds and keys first, in the same atomic write
  /// (`import --replace`): the drop is a delete with a version of its own
  /// (the next one), the writes take the one after it, so the cold store
  /// drops the old state as it drops a deleted session's.
  bool replace = false;
  /// The new version is at least this (0: no floor). `restore` carries a
  /// dumped version with it; the version still grows by at least one, so it
  /// never goes backwards (invariant 2).
  uint64_t min_version = 0;
  /// Apply only while this lease holds (none by default).
  lease_token lease;

  /// Appends an upsert of creds field `name`.
  void set_creds(std::string_view name, std::string json);
  /// Appends a delete of creds field `name`.
  void erase_creds(std::string_view name);
  /// Appends an upsert of key (type, id).
  void set_key(std::string_view type, std::string_view id, std::string json);
  /// Appends a delete of key (type, id).
  void erase_key(std::string_view type, std::string_view id);

  /// Total bytes of names and values (for the patch size limit).
  size_t payload_bytes() const;

  friend bool operator==(const patch& a, const patch& b) {
    return a.writes == b.writes && a.expected_version == b.expected_version
           && a.if_absent == b.if_absent && a.replace == b.replace
           && a.min_version == b.min_version && a.lease == b.lease;
  }
};

/// Coupled with remote_protocol_version (messages/interfaces.hpp): a change
/// of these members changes what a patch is on the wire.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, patch& x) {
  return f(x.writes, x.expected_version, x.if_absent, x.replace, x.min_version,
           x.lease);
}

/// Checks field names ("c:<name>" / "k:<type>/<id>", each part valid), value
/// sizes (limits.value.max_value_bytes), the patch's names plus values
/// (max_patch_bytes), its write count, and that the conditions combine
/// (if_absent excludes expected_version and replace). A failing patch is
/// rejected whole (nothing half-applied). Values are expected to be
/// codec-normalized JSON already, so depth and field counts are the
/// codec's to check.
outcome<bool> validate_patch(const patch& p, const patch_limits& limits);

/// Reply to get_creds. `found` is false only after a successful read that
/// found no creds: never because a backend failed (invariant 4).
struct creds_reply {
  bool found = false;
  /// The session's version at the time of the read (0: never written).
  uint64_t version = 0;
  /// The creds document as JSON text ("{}" when not found).
  std::string creds_json = "{}";

  friend bool operator==(const creds_reply& a, const creds_reply& b) {
    return a.found == b.found && a.version == b.version
           && a.creds_json == b.creds_json;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, creds_reply& x) {
  return f(x.found, x.version, x.creds_json);
}

/// Reply to get_keys: the ids that exist, with their JSON values; absent ids
/// are left out (Baileys' keys.get contract).
struct keys_reply {
  uint64_t version = 0;
  std::map<std::string, std::string> values;

  friend bool operator==(const keys_reply& a, const keys_reply& b) {
    return a.version == b.version && a.values == b.values;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, keys_reply& x) {
  return f(x.version, x.values);
}

/// Reply to list_keys: every id stored for one key type (sorted), at
/// `version`.
struct key_ids_reply {
  uint64_t version = 0;
  std::vector<std::string> ids;

  friend bool operator==(const key_ids_reply& a, const key_ids_reply& b) {
    return a.version == b.version && a.ids == b.ids;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, key_ids_reply& x) {
  return f(x.version, x.ids);
}

/// Reply to a delete that reports its version: whether a live session
/// existed, and the version the delete got (0 when nothing was known).
struct delete_reply {
  bool existed = false;
  uint64_t version = 0;

  friend bool operator==(const delete_reply& a, const delete_reply& b) {
    return a.existed == b.existed && a.version == b.version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delete_reply& x) {
  return f(x.existed, x.version);
}

/// Shortest and longest client lease a node grants, in ms: a request
/// outside is clamped (the reply says the TTL granted). 100 ms is the Node
/// client's own floor; 5 minutes bounds how long a crashed holder blocks
/// its account.
constexpr int64_t min_lease_ttl_ms = 100;
constexpr int64_t max_lease_ttl_ms = 300'000;

/// Takes, renews or (takeover) takes over a session's client lease.
struct lease_request {
  std::string holder;
  int64_t ttl_ms = 30'000;
  bool takeover = false;

  friend bool operator==(const lease_request& a, const lease_request& b) {
    return a.holder == b.holder && a.ttl_ms == b.ttl_ms
           && a.takeover == b.takeover;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_request& x) {
  return f(x.holder, x.ttl_ms, x.takeover);
}

/// A granted lease: its epoch and the TTL granted (maybe shorter than
/// asked). A lease held by another holder is the error session_in_use.
struct lease_reply {
  uint64_t epoch = 0;
  int64_t ttl_ms = 0;

  friend bool operator==(const lease_reply& a, const lease_reply& b) {
    return a.epoch == b.epoch && a.ttl_ms == b.ttl_ms;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_reply& x) {
  return f(x.epoch, x.ttl_ms);
}

/// Checks a lease holder: 1..128 bytes of [A-Za-z0-9._:-] (a UUID fits).
outcome<bool> validate_lease_holder(std::string_view holder);

/// Cold-path persist: the current values (or deletions) of the fields that
/// changed since the last persist, read at session version `version`.
/// When `erase` is set, the session was deleted since the last persist: its
/// durable state at or below `erase_version` goes first (0: everything,
/// for a session Redis had no trace of), then `fields` are written. A
/// persist that only erases carries no fields and version == erase_version.
struct persist_request {
  std::string session_id;
  uint64_t version = 0;
  std::vector<field_write> fields;
  bool erase = false;
  uint64_t erase_version = 0;

  friend bool operator==(const persist_request& a, const persist_request& b) {
    return a.session_id == b.session_id && a.version == b.version
           && a.fields == b.fields && a.erase == b.erase
           && a.erase_version == b.erase_version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, persist_request& x) {
  return f(x.session_id, x.version, x.fields, x.erase, x.erase_version);
}

/// A whole session as loaded from a store (read-through).
struct session_snapshot {
  bool found = false;
  uint64_t version = 0;
  /// Live fields only (erase is always false here).
  std::vector<field_write> fields;

  friend bool operator==(const session_snapshot& a, const session_snapshot& b) {
    return a.found == b.found && a.version == b.version && a.fields == b.fields;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_snapshot& x) {
  return f(x.found, x.version, x.fields);
}

/// One page of a walk over the live sessions Redis holds (list_sessions).
struct session_page {
  /// Where the next page starts; "0" when the walk is complete.
  std::string cursor = "0";
  /// Live session ids (tombstones left out); a walk may name one twice.
  std::vector<std::string> ids;

  friend bool operator==(const session_page& a, const session_page& b) {
    return a.cursor == b.cursor && a.ids == b.ids;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_page& x) {
  return f(x.cursor, x.ids);
}

} // namespace authstore
