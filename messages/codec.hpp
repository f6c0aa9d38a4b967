// codec.hpp -- Baileys JSON in any form seen in the wild, out in the v7 form.
//
// The C++ answer to the TypeScript peer's "Deep Buffer Revival". Baileys
// values are JSON produced by BufferJSON.replacer. Three Buffer encodings
// occur in stored auth state:
//   1. {"type":"Buffer","data":"<base64>"}    -- v7 (rc.4+), the only form
//                                                 Baileys v7 reads back;
//   2. {"type":"Buffer","data":[1,2,...]}      -- plain JSON.stringify of a
//                                                 Buffer (the rc.6 bug);
//   3. {"0":1,"1":2,...}                       -- a serialized Uint8Array:
//                                                 an object whose keys are
//                                                 exactly 0..n-1, all with
//                                                 integer values 0..255
//                                                 (1.0 counts as 1, as in
//                                                 JavaScript).
// Input may use any of them at any depth (inside objects and arrays); output
// always uses form 1. Base64 strings without a Buffer tag (protobuf-derived
// fields) stay byte-for-byte as they are; an empty buffer is data:"".
//
// Object member order is preserved (ordered_json), and text is written the
// way JavaScript's JSON.stringify writes it (nlohmann's dump() differs for
// doubles: 1e-06 vs 0.000001), so a document already in v7 form normalizes
// to itself byte-identically.
//
// Limits are checked before or while decoding, never after a full parse of an
// oversized document: size before parsing, depth and field count during the
// parse (SAX callback). Over a limit: a failure, nothing produced.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "messages/errors.hpp"
#include "messages/limits.hpp"

namespace authstore {

/// The JSON type the codec works on: insertion-ordered, like JavaScript.
using json = nlohmann::ordered_json;

/// Parses `text` under `limits`. Errors: value_too_large, too_deep,
/// too_many_fields, invalid_argument (not JSON).
outcome<json> parse_limited(std::string_view text, const codec_limits& limits);

/// Rewrites every Buffer in `value` (any depth) to the v7 form. Errors:
/// invalid_buffer (bad base64, array element not an integer in 0..255).
outcome<bool> normalize_buffers(json& value);

/// True when no number-array Buffer (form 2) and no Uint8Array object (form
/// 3) remains anywhere in `value` -- the post-normalization validation pass
/// (the seed's assertBufferTypes).
bool has_only_v7_buffers(const json& value);

/// parse_limited + normalize_buffers + has_only_v7_buffers + JSON.stringify
/// style text. The output is checked against max_value_bytes and
/// max_fields too (rewriting can lengthen a document and add fields), so
/// text this returns normalizes to itself under the same limits.
outcome<std::string> normalize_text(std::string_view text,
                                    const codec_limits& limits);

/// Standard base64 (RFC 4648, with padding) of `bytes`.
std::string base64_encode(std::string_view bytes);

/// Appends the base64 of `bytes` to `out` (base64_encode without a string
/// of its own: the value cipher writes a sealed value in one buffer).
void base64_append(std::string& out, std::string_view bytes);

/// Decodes standard base64; rejects invalid characters and bad padding.
outcome<std::string> base64_decode(std::string_view text);

/// base64_decode into `out` (resized to the decoded size, which is
/// returned; its contents are unspecified after a failure): a caller that
/// decodes many values reuses one buffer instead of allocating per value.
outcome<size_t> base64_decode_into(std::string& out, std::string_view text);

} // namespace authstore
