// api_bodies.cpp -- see api_bodies.hpp.
#include "runtime/http/api_bodies.hpp"

#include <algorithm>

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
  lease_token lease;
  if (auto l = d.find("lease"); l != d.end()) {
    if (!l->is_null()) {
      auto parsed = parse_lease_member(*l);
      if (auto* e = std::get_if<api_error>(&parsed))
        return std::move(*e);
      lease = std::move(std::get<lease_token>(parsed));
    }
    d.erase(l);
  }
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
  p->lease = std::move(lease);
  return std::move(*p);
}

api_parsed<lease_token> parse_lease_member(const json& l) {
  auto shape = std::string{
    "lease is {\"holder\": string, \"epoch\": whole number >= 1}"};
  if (!l.is_object() || l.size() != 2 || !l.contains("holder")
      || !l.contains("epoch") || !l["holder"].is_string()
      || !l["epoch"].is_number_unsigned())
    return bad_input(errc::invalid_argument, shape);
  lease_token t{l["holder"].get<std::string>(), l["epoch"].get<uint64_t>()};
  if (auto ok = validate_lease_holder(t.holder); !ok)
    return bad_input(ok.error().code, ok.error().detail);
  return t;
}

namespace {

/// A small JSON object body (lease routes): at most `fields` members,
/// depth 2.
api_parsed<json> parse_small_object(std::string_view body, size_t fields) {
  codec_limits limits;
  limits.max_value_bytes = 4096;
  limits.max_depth = 2;
  limits.max_fields = fields + 2;
  auto doc = parse_body(body, limits);
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  if (!std::get<json>(doc).is_object())
    return bad_input(errc::invalid_argument, "the body is a JSON object");
  return doc;
}

} // namespace

api_parsed<lease_request> parse_lease_body(std::string_view body) {
  auto doc = parse_small_object(body, 3);
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  auto& d = std::get<json>(doc);
  auto shape = std::string{"the body is {\"holder\": string, \"ttl_ms\": "
                           "whole number, \"takeover\": bool}"};
  lease_request r;
  for (auto& [k, v] : d.items()) {
    if (k == "holder" && v.is_string())
      r.holder = v.get<std::string>();
    else if (k == "ttl_ms" && v.is_number_unsigned())
      r.ttl_ms = static_cast<int64_t>(
        std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX));
    else if (k == "takeover" && v.is_boolean())
      r.takeover = v.get<bool>();
    else
      return bad_input(errc::invalid_argument, shape);
  }
  if (auto ok = validate_lease_holder(r.holder); !ok)
    return bad_input(ok.error().code, ok.error().detail);
  return r;
}

api_parsed<lease_token> parse_delete_body(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return lease_token{};
  auto doc = parse_small_object(body, 3);
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  auto& d = std::get<json>(doc);
  if (d.empty()
      || (d.size() == 1 && d.contains("lease") && d["lease"].is_null()))
    return lease_token{};
  if (d.size() != 1 || !d.contains("lease"))
    return bad_input(errc::invalid_argument,
                     "a delete body is empty or {\"lease\": {holder, epoch}}");
  return parse_lease_member(d["lease"]);
}

api_parsed<std::string> parse_release_body(std::string_view body) {
  auto doc = parse_small_object(body, 1);
  if (auto* e = std::get_if<api_error>(&doc))
    return std::move(*e);
  auto& d = std::get<json>(doc);
  if (d.size() != 1 || !d.contains("holder") || !d["holder"].is_string())
    return bad_input(errc::invalid_argument,
                     "the body is {\"holder\": string}");
  auto holder = d["holder"].get<std::string>();
  if (auto ok = validate_lease_holder(holder); !ok)
    return bad_input(ok.error().code, ok.error().detail);
  return holder;
}

http_reply key_ids_reply_of(const key_ids_reply& r) {
  std::string out = "{\"version\":" + std::to_string(r.version) + ",\"ids\":[";
  for (size_t i = 0; i < r.ids.size(); ++i) {
    if (i > 0)
      out += ',';
    out += json_string(r.ids[i]);
  }
  out += "]}\n";
  return ok_reply(std::move(out));
}

http_reply lease_reply_of(const lease_reply& r) {
  return ok_reply("{\"epoch\":" + std::to_string(r.epoch)
                  + ",\"ttl_ms\":" + std::to_string(r.ttl_ms) + "}\n");
}

http_reply delete_reply_of(const delete_reply& r) {
  return ok_reply(std::string{"{\"existed\":"} + (r.existed ? "true" : "false")
                  + ",\"version\":" + std::to_string(r.version) + "}\n");
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
