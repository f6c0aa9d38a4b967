// api_bodies.hpp -- request bodies in, reply bodies out, for the HTTP API
// (docs/HTTP-API.md, Routes).
//
// In: the write body (the engine's patch JSON plus `expected_version` and
// `lease`), `{"ids": [...]}`, `{"sessions": [...]}`, the lease bodies and
// the optional delete body `{"lease": {...}}`. Every value goes through the
// codec exactly as `authstore set` does (all three Buffer forms in, the v7 form
// stored). Syntax errors are `bad_json`; wrong shapes `invalid_argument`;
// limits their errc (value_too_large, too_deep, too_many_fields). Nothing is
// sent to the engine when a body is rejected.
//
// Out: the stored JSON text is spliced into the reply as it is (it is the
// engine's normalized JSON, never re-parsed), so a read returns exactly
// what Baileys wrote, in the v7 Buffer form. CAF-free; the batch renderer
// is a template so that this header does not need messages/interfaces.hpp.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"
#include "runtime/http/api_errors.hpp"

namespace authstore {

/// A parsed body or the error reply it earns.
template <class T>
using api_parsed = std::variant<T, api_error>;

/// The write body: a patch with its optional expected_version.
api_parsed<patch> parse_write_body(std::string_view body,
                                   const patch_limits& limits);

/// The `lease` member of a write or delete: {"holder": s, "epoch": n}.
api_parsed<lease_token> parse_lease_member(const json& l);

/// POST .../lease: {"holder", "ttl_ms"?, "takeover"?} (ttl_ms defaults to
/// 30 000 and is clamped by the engine).
api_parsed<lease_request> parse_lease_body(std::string_view body);

/// DELETE .../lease: {"holder"}.
api_parsed<std::string> parse_release_body(std::string_view body);

/// DELETE /v1/sessions/{sid}: no body, `{}`, or {"lease": {holder, epoch}}
/// (an empty holder: not fenced).
api_parsed<lease_token> parse_delete_body(std::string_view body);

/// 200 `{"version": V, "ids": [...]}`.
http_reply key_ids_reply_of(const key_ids_reply& r);

/// 200 `{"epoch": E, "ttl_ms": T}`.
http_reply lease_reply_of(const lease_reply& r);

/// 200 `{"existed": bool, "version": V}`.
http_reply delete_reply_of(const delete_reply& r);

/// `{"<member>": ["a", "b", ...]}`: the strings, in order (at most
/// limits.max_writes of them).
api_parsed<std::vector<std::string>>
parse_string_list(std::string_view body, std::string_view member,
                  const patch_limits& limits);

/// 200 `{"version": V, "creds": {...}}`, or 404 not_found when the read
/// found no creds (a successful read of nothing, never a backend error).
http_reply creds_reply_of(const creds_reply& r);

/// 200 `{"version": V, "keys": {"id": value, ...}}`.
http_reply keys_reply_of(const keys_reply& r);

/// 200 `{"version": V}`.
http_reply version_reply_of(uint64_t version);

/// 200 `{"<name>": true|false}`.
http_reply flag_reply_of(std::string_view name, bool value);

/// 200 with a JSON body.
http_reply ok_reply(std::string body);

/// The JSON of a string (escaped; invalid UTF-8 replaced).
std::string json_string(std::string_view s);

/// 200 `{"results": [...]}` of a batch creds read, one entry per session
/// in request order: {"session","version","creds"}, {"session","found":
/// false} or {"session","error","message"}. `Result` is session_result
/// (messages/interfaces.hpp).
template <class Result>
http_reply batch_reply_of(const std::vector<Result>& results) {
  std::string out = "{\"results\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    out += i == 0 ? "{\"session\":" : ",{\"session\":";
    out += json_string(r.session_id);
    if (r.error != 0) {
      out += ",\"error\":" + json_string(to_string(static_cast<errc>(r.error)));
      out += ",\"message\":" + json_string(r.detail);
    } else if (r.creds.found) {
      out += ",\"version\":" + std::to_string(r.creds.version);
      out += ",\"creds\":" + r.creds.creds_json;
    } else {
      out += ",\"found\":false";
    }
    out += '}';
  }
  out += "]}\n";
  return ok_reply(std::move(out));
}

} // namespace authstore
