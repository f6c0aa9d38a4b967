// api_bodies.cpp -- see api_bodies.hpp.
#include "runtime/http/api_bodies.hpp"

#include "messages/codec.hpp"

namespace authstore {

namespace {

api_error bad_input(errc code, std::string why) {
  return from_failure(failure{code, std::move(why)}, false);
}

/// Parses a body under `limits`; a syntax error is bad_json (400), the
/// limits keep their own codes.
api_parsed<json> parse_body(std::string_view body, const codec_limits& limits) {
  auto doc = parse_limited(body, limits);
  if (doc)
    return std::move(*doc);
  if (doc.error().code == errc::invalid_argument)
    return http_error(400, "bad_json",
                      "the body is not JSON (" + doc.error().detail + ")");
  return from_failure(doc.error(), false);
}

} // namespace

std::string json_string(std::string_view s) {
  return json(std::string{s})
    .dump(-1, ' ', false, json::error_handler_t::replace);
}

api_parsed<patch> parse_write_body(std::string_view body,
                                   const patch_limits& limits) {
  if (body.size() > limits.max_patch_bytes)
    return bad_input(errc::value_too_large,
                     "patch has " + std::to_string(body.size())
                       + " bytes, at most "
                       + std::to_string(limits.max_patch_bytes)
                       + " are allowed (codec.max-patch-bytes)");
  auto doc = parse_body(body, patch_document_limits(limits));
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  auto& d = std::get<json>(doc);
  if (!d.is_object())
    return bad_input(errc::invalid_argument, "a write body is a JSON object");
  if (d.contains("lease"))
    return http_error(501, "not_implemented",
                      "writes carrying a lease are not available yet "
                      "(issue #14, phase 2); send the write without it");
  uint64_t expected = any_version;
  if (auto v = d.find("expected_version"); v != d.end()) {
    if (v->is_number_unsigned() && v->get<uint64_t>() != any_version)
      expected = v->get<uint64_t>();
    else if (!v->is_null())
      return bad_input(errc::invalid_argument,
                       "expected_version must be a whole number >= 0");
    d.erase(v);
  }
  auto p = parse_patch_document(d, limits);
  if (!p)
    return bad_input(p.error().code, p.error().detail);
  p->expected_version = expected;
  return std::move(*p);
}

api_parsed<std::vector<std::string>>
parse_string_list(std::string_view body, std::string_view member,
                  const patch_limits& limits) {
  codec_limits doc_limits;
  doc_limits.max_value_bytes = limits.max_patch_bytes;
  doc_limits.max_depth = 2;
  doc_limits.max_fields = limits.max_writes + 1;
  auto doc = parse_body(body, doc_limits);
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  auto& d = std::get<json>(doc);
  auto shape = "the body is {\"" + std::string{member} + "\": [strings]}";
  if (!d.is_object() || d.size() != 1 || !d.contains(std::string{member}))
    return bad_input(errc::invalid_argument, shape);
  const auto& list = d[std::string{member}];
  if (!list.is_array())
    return bad_input(errc::invalid_argument, shape);
  std::vector<std::string> out;
  out.reserve(list.size());
  for (const auto& x : list) {
    if (!x.is_string())
      return bad_input(errc::invalid_argument, shape);
    out.push_back(x.get<std::string>());
  }
  return out;
}

http_reply ok_reply(std::string body) {
  http_reply r;
  r.body = std::move(body);
  return r;
}

http_reply creds_reply_of(const creds_reply& r) {
  if (!r.found)
    return to_reply(http_error(404, "not_found",
                               "the session has no creds (a successful read "
                               "of nothing)"));
  return ok_reply("{\"version\":" + std::to_string(r.version)
                  + ",\"creds\":" + r.creds_json + "}\n");
}

http_reply keys_reply_of(const keys_reply& r) {
  std::string out = "{\"version\":" + std::to_string(r.version) + ",\"keys\":{";
  bool first = true;
  for (const auto& [id, value] : r.values) {
    if (!first)
      out += ',';
    first = false;
    out += json_string(id);
    out += ':';
    out += value;
  }
  out += "}}\n";
  return ok_reply(std::move(out));
}

http_reply version_reply_of(uint64_t version) {
  return ok_reply("{\"version\":" + std::to_string(version) + "}\n");
}

http_reply flag_reply_of(std::string_view name, bool value) {
  return ok_reply("{" + json_string(name) + ":" + (value ? "true" : "false")
                  + "}\n");
}

} // namespace authstore
