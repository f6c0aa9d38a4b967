// model.cpp -- field naming and validation for the data model (model.hpp).
#include "messages/model.hpp"

#include <algorithm>

namespace authstore {

const std::vector<std::string> baileys_key_types = {
  "pre-key",
  "session",
  "sender-key",
  "sender-key-memory",
  "app-state-sync-key",
  "app-state-sync-version",
  "lid-mapping",
  "device-list",
  "tctoken",
  "identity-key",
};

namespace {

bool is_key_type_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

outcome<bool> validate_name(std::string_view what, std::string_view x,
                            size_t max_bytes) {
  if (x.empty())
    return {errc::invalid_argument, std::string{what} + " is empty"};
  if (x.size() > max_bytes)
    return {errc::invalid_argument,
            std::string{what} + " has " + std::to_string(x.size())
              + " bytes, at most " + std::to_string(max_bytes)
              + " are allowed"};
  if (x.find('\0') != std::string_view::npos)
    return {errc::invalid_argument, std::string{what} + " contains NUL"};
  return true;
}

} // namespace

outcome<bool> validate_key_type(std::string_view type) {
  if (auto ok = validate_name("key type", type, max_key_type_bytes); !ok)
    return ok;
  for (char c : type)
    if (!is_key_type_char(c))
      // The name is not echoed: a malformed document can put a value (key
      // material) where a type belongs, and details reach logs.
      return {errc::invalid_argument,
              "a key type (" + std::to_string(type.size())
                + " bytes) has a disallowed character (allowed: A-Z a-z 0-9 "
                  ". _ -)"};
  return true;
}

outcome<bool> validate_key_id(std::string_view id) {
  return validate_name("key id", id, max_key_id_bytes);
}

outcome<bool> validate_creds_field(std::string_view name) {
  return validate_name("creds field name", name, max_creds_field_bytes);
}

std::string creds_field_name(std::string_view name) {
  std::string result = "c:";
  result += name;
  return result;
}

std::string key_field_name(std::string_view type, std::string_view id) {
  std::string result = "k:";
  result.reserve(3 + type.size() + id.size());
  result += type;
  result += '/';
  result += id;
  return result;
}

void patch::set_creds(std::string_view name, std::string json) {
  writes.push_back({creds_field_name(name), false, std::move(json)});
}

void patch::erase_creds(std::string_view name) {
  writes.push_back({creds_field_name(name), true, {}});
}

void patch::set_key(std::string_view type, std::string_view id,
                    std::string json) {
  writes.push_back({key_field_name(type, id), false, std::move(json)});
}

void patch::erase_key(std::string_view type, std::string_view id) {
  writes.push_back({key_field_name(type, id), true, {}});
}

outcome<bool> validate_patch(const patch& p, const patch_bounds& bounds) {
  if (p.if_absent && (p.replace || p.expected_version != any_version))
    return {errc::invalid_argument,
            "if_absent excludes replace and an expected version"};
  if (p.writes.size() > bounds.max_writes)
    return {errc::too_many_fields,
            "patch has " + std::to_string(p.writes.size()) + " writes, at most "
              + std::to_string(bounds.max_writes) + " are allowed"};
  if (auto n = p.payload_bytes(); n > bounds.max_patch_bytes)
    return {errc::value_too_large,
            "patch has " + std::to_string(n) + " bytes, at most "
              + std::to_string(bounds.max_patch_bytes) + " are allowed"};
  for (const auto& w : p.writes) {
    std::string_view f = w.field;
    auto kind = f.substr(0, 2);
    auto rest = f.substr(std::min<size_t>(2, f.size()));
    if (kind == "c:") {
      if (auto ok = validate_creds_field(rest); !ok)
        return ok;
    } else if (kind == "k:") {
      auto slash = rest.find('/');
      if (slash == std::string_view::npos)
        return {errc::invalid_argument, "key field without '/'"};
      if (auto ok = validate_key_type(rest.substr(0, slash)); !ok)
        return ok;
      if (auto ok = validate_key_id(rest.substr(slash + 1)); !ok)
        return ok;
    } else {
      return {errc::invalid_argument,
              "field name must start with 'c:' or 'k:'"};
    }
    if (!w.erase && w.value.empty())
      return {errc::invalid_argument, "an upsert needs a JSON value"};
    if (w.value.size() > bounds.max_value_bytes)
      return {errc::value_too_large,
              "value of " + std::string{kind == "c:" ? "creds field" : "key"}
                + " has " + std::to_string(w.value.size()) + " bytes, at most "
                + std::to_string(bounds.max_value_bytes) + " are allowed"};
  }
  return true;
}

size_t patch::payload_bytes() const {
  size_t n = 0;
  for (const auto& w : writes)
    n += w.field.size() + w.value.size();
  return n;
}

} // namespace authstore
