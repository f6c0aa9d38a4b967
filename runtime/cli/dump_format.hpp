// dump_format.hpp -- one session as one line of a dump (JSON Lines), and
// back. CAF-free.
//
//   {"session":"5511999","version":42,"creds":{...},"keys":{"pre-key":
//    {"1":{...},"2":{...}},"session":{...}}}
//
// One line per session, each a snapshot at one version (read_session).
// Values are the stored text byte for byte (v7 form, JSON.stringify style);
// creds in Baileys' order (baileys_creds_document), key types and ids
// sorted, so that two dumps of one state are equal files. JSON text never
// holds a raw newline, so a line is a session.
//
// Reading back normalizes every value again with the codec; a stored value
// is already normalized, and normalizing is idempotent (codec.hpp: a v7
// document normalizes to itself byte for byte), so a restore writes the
// dumped bytes. The version travels as the patch's min_version: a restore
// into an empty store keeps it, into a fuller one goes above it (never
// backwards: invariant 2).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"

namespace authstore {

/// The dump line of session `sid` (no newline at the end).
std::string dump_line(const std::string& sid, const session_snapshot& snap);

/// A dump line read back.
struct dumped_session {
  std::string sid;
  uint64_t version = 0;
  /// The session's creds and keys as one patch, min_version = version.
  patch writes;
};

/// Parses one dump line under `limits` (the line itself may be up to
/// max_dump_line_bytes(limits)). Errors: invalid_argument (not a dump
/// line: members other than session, version, creds, keys; a missing or
/// invalid session id or version), and the codec's and patch_json's.
outcome<dumped_session> parse_dump_line(std::string_view line,
                                        const patch_limits& limits);

/// The longest dump line a session within `limits` makes: its payload plus
/// the JSON around it (names quoted, ids repeated per type) -- bounded at
/// twice the payload plus 1 MiB.
size_t max_dump_line_bytes(const patch_limits& limits);

} // namespace authstore
