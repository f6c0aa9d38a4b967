// dump_format.cpp -- dump lines, both ways (dump_format.hpp).
#include "runtime/cli/dump_format.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "messages/codec.hpp"
#include "messages/session_id.hpp"
#include "runtime/cli/baileys_folder.hpp"

namespace authstore {

std::string dump_line(const std::string& sid, const session_snapshot& snap) {
  // type -> (id, value), both sorted: equal states give equal lines.
  std::map<std::string_view,
           std::vector<std::pair<std::string_view, std::string_view>>>
    by_type;
  size_t bytes = 0;
  for (const auto& w : snap.fields) {
    bytes += w.field.size() + w.value.size() + 8;
    std::string_view type;
    std::string_view id;
    if (!is_key_field(w.field) || !split_key_field(w.field, type, id))
      continue; // creds; a key without '/' is no stored name, never here
    by_type[type].emplace_back(id, w.value);
  }
  std::string line;
  line.reserve(bytes + sid.size() + 64);
  line += R"({"session":)";
  line += json(sid).dump();
  line += R"(,"version":)";
  line += std::to_string(snap.version);
  line += R"(,"creds":)";
  line += baileys_creds_document(snap.fields);
  line += R"(,"keys":{)";
  bool first_type = true;
  for (auto& [type, ids] : by_type) {
    std::sort(ids.begin(), ids.end());
    if (!first_type)
      line += ',';
    first_type = false;
    line += json(std::string{type}).dump();
    line += ":{";
    bool first_id = true;
    for (const auto& [id, value] : ids) {
      if (!first_id)
        line += ',';
      first_id = false;
      line += json(std::string{id}).dump();
      line += ':';
      line += value;
    }
    line += '}';
  }
  line += "}}";
  return line;
}

size_t max_dump_line_bytes(const patch_limits& limits) {
  return 2 * limits.max_patch_bytes + (size_t{1} << 20);
}

outcome<dumped_session> parse_dump_line(std::string_view line,
                                        const patch_limits& limits) {
  codec_limits doc = limits.value;
  doc.max_value_bytes = max_dump_line_bytes(limits);
  doc.max_depth = limits.value.max_depth + 3;
  doc.max_fields = limits.value.max_fields + limits.max_writes * 2 + 4;
  auto parsed = parse_limited(line, doc);
  if (!parsed)
    return parsed.error();
  if (!parsed->is_object())
    return failure{errc::invalid_argument, "a dump line is a JSON object"};
  dumped_session result;
  json body = json::object();
  for (auto& [name, value] : parsed->items()) {
    if (name == "session") {
      if (!value.is_string())
        return failure{errc::invalid_argument, "session is not a string"};
      result.sid = value.get<std::string>();
    } else if (name == "version") {
      if (!value.is_number_unsigned())
        return failure{errc::invalid_argument, "version is not a whole number"};
      result.version = value.get<uint64_t>();
    } else if (name == "creds" || name == "keys") {
      body[name] = std::move(value);
    } else {
      return failure{errc::invalid_argument,
                     "not a dump line: unknown member ("
                       + std::to_string(name.size())
                       + " bytes; expected session, version, creds, keys)"};
    }
  }
  if (result.sid.empty())
    return failure{errc::invalid_argument, "a dump line names its session"};
  if (auto ok = validate_session_id(result.sid); !ok)
    return ok.error();
  auto p = parse_patch_document(body, limits);
  if (!p)
    return p.error();
  result.writes = std::move(*p);
  result.writes.min_version = result.version;
  return result;
}

} // namespace authstore
