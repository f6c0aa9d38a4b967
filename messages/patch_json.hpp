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

/// The bounds a whole patch document is parsed under (parse_limited): the
/// patch byte limit, and depth and fields with room for the wrapper levels.
codec_limits patch_document_limits(const patch_limits& limits);

/// parse_patch on a document parsed already (under patch_document_limits),
/// for envelopes that carry a patch beside other members: the HTTP API's
/// write body takes out expected_version first (runtime/http/api_bodies).
outcome<patch> parse_patch_document(const json& doc,
                                    const patch_limits& limits);

/// Builds {"field": value, ...} from creds fields ("c:..." names, JSON text
/// values) -- the inverse of the creds part of a patch.
std::string creds_document(const std::vector<field_write>& fields);

} // namespace authstore
