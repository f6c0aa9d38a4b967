// patch_json.hpp -- the JSON form of a patch, used by the CLI and remote API.
//
//   {"creds": {"field": value-or-null, ...},
//    "keys":  {"pre-key": {"1": value, "2": null}, "session": {...}}}
//
// Both parts are optional; it mirrors Baileys' saveCreds (creds shallow
// merge) and keys.set (per (type, id): value upserts, null deletes). Every
// value is normalized by the codec; any invalid part rejects the whole patch
// (nothing is half-applied because nothing is sent).
#pragma once

#include <string>
#include <string_view>

#include "messages/codec.hpp"
#include "messages/model.hpp"

namespace authstore {

/// Parses and validates a patch document; values come out normalized.
outcome<patch> parse_patch(std::string_view text, const patch_limits& limits);

/// Builds {"field": value, ...} from creds fields ("c:..." names, JSON text
/// values) -- the inverse of the creds part of a patch.
std::string creds_document(const std::vector<field_write>& fields);

} // namespace authstore
