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

/// Limits on a whole patch, on top of the per-value codec limits.
struct patch_limits {
  codec_limits value;
  /// Bytes of the whole patch JSON text (default 16 MiB).
  size_t max_patch_bytes = 16u << 20;
  /// Number of field writes in one patch.
  size_t max_writes = 10000;
};

/// Parses and validates a patch document; values come out normalized.
outcome<patch> parse_patch(std::string_view text, const patch_limits& limits);

/// As parse_patch, for a document already parsed (under limits at least as
/// tight as parse_patch's): `doc` must be an object whose members are
/// `creds` and `keys` only. `restore` reads a dump line with it.
outcome<patch> patch_from_json(const json& doc, const patch_limits& limits);

/// Builds {"field": value, ...} from creds fields ("c:..." names, JSON text
/// values) -- the inverse of the creds part of a patch.
std::string creds_document(const std::vector<field_write>& fields);

} // namespace authstore
