// patch_json.cpp -- parse the JSON form of a patch (patch_json.hpp).
#include "messages/patch_json.hpp"

namespace authstore {

namespace {

/// Normalizes one value under the per-value limits (null handled by caller).
outcome<std::string> value_text(const json& v, const codec_limits& limits) {
  // Re-dumping and re-parsing keeps a single code path for limits and
  // normalization; patches are small relative to this cost.
  auto text = v.dump();
  return normalize_text(text, limits);
}

} // namespace

codec_limits patch_document_limits(const patch_limits& limits) {
  // Whole-document bounds: depth counts the two wrapper levels.
  codec_limits doc_limits = limits.value;
  doc_limits.max_value_bytes = limits.max_patch_bytes;
  doc_limits.max_depth = limits.value.max_depth + 3;
  doc_limits.max_fields = limits.value.max_fields + limits.max_writes * 2;
  return doc_limits;
}

outcome<patch> parse_patch(std::string_view text, const patch_limits& limits) {
  if (text.size() > limits.max_patch_bytes)
    return {errc::value_too_large,
            "patch has " + std::to_string(text.size()) + " bytes, at most "
              + std::to_string(limits.max_patch_bytes) + " are allowed"};
  auto doc = parse_limited(text, patch_document_limits(limits));
  if (!doc)
    return doc.error();
  return parse_patch_document(*doc, limits);
}

outcome<patch> parse_patch_document(const json& doc_in,
                                    const patch_limits& limits) {
  const json* doc = &doc_in;
  if (!doc->is_object())
    return {errc::invalid_argument, "a patch is a JSON object"};
  patch result;
  for (auto& [part, body] : doc->items()) {
    if (part != "creds" && part != "keys")
      // Not echoed: it may be a misplaced value (see validate_key_type).
      return {errc::invalid_argument, "unknown patch member ("
                                        + std::to_string(part.size())
                                        + " bytes; expected creds, keys)"};
    if (!body.is_object())
      return {errc::invalid_argument, "patch." + part + " must be an object"};
  }
  if (auto c = doc->find("creds"); c != doc->end()) {
    for (auto& [name, v] : c->items()) {
      if (auto ok = validate_creds_field(name); !ok)
        return ok.error();
      if (v.is_null()) {
        result.erase_creds(name);
        continue;
      }
      auto t = value_text(v, limits.value);
      if (!t)
        return failure{t.error().code,
                       "creds." + name + ": " + t.error().detail};
      result.set_creds(name, std::move(*t));
    }
  }
  if (auto k = doc->find("keys"); k != doc->end()) {
    for (auto& [type, ids] : k->items()) {
      if (auto ok = validate_key_type(type); !ok)
        return ok.error();
      if (!ids.is_object())
        return {errc::invalid_argument,
                "keys." + type + " must map ids to values or null"};
      for (auto& [id, v] : ids.items()) {
        if (auto ok = validate_key_id(id); !ok)
          return ok.error();
        if (v.is_null()) {
          result.erase_key(type, id);
          continue;
        }
        auto t = value_text(v, limits.value);
        if (!t)
          return failure{t.error().code, "keys." + type + "["
                                           + std::to_string(id.size())
                                           + "-byte id]: " + t.error().detail};
        result.set_key(type, id, std::move(*t));
      }
    }
  }
  if (result.writes.size() > limits.max_writes)
    return {errc::too_many_fields,
            "patch has " + std::to_string(result.writes.size())
              + " writes, at most " + std::to_string(limits.max_writes)
              + " are allowed"};
  return result;
}

std::string creds_document(const std::vector<field_write>& fields) {
  std::string doc = "{";
  bool first = true;
  for (const auto& f : fields) {
    if (f.erase || !is_creds_field(f.field))
      continue;
    if (!first)
      doc += ',';
    first = false;
    doc += json(field_subject(f.field)).dump();
    doc += ':';
    doc += f.value;
  }
  doc += '}';
  return doc;
}

} // namespace authstore
