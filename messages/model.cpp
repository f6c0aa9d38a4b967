// model.cpp -- field naming and validation for the data model (model.hpp).
#include "messages/model.hpp"

#include "messages/utf8.hpp"

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

/// The field-name prefixes (model.hpp); the Lua scripts in redis/ test
/// the same two strings.
constexpr std::string_view creds_prefix = "c:";
constexpr std::string_view key_prefix = "k:";

bool has_prefix(std::string_view x, std::string_view prefix) {
  return x.substr(0, prefix.size()) == prefix;
}

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

outcome<bool> validate_lease_holder(std::string_view holder) {
  if (holder.empty() || holder.size() > 128)
    return {errc::invalid_argument, "a lease holder has "
                                      + std::to_string(holder.size())
                                      + " bytes, 1 to 128 are allowed"};
  for (char c : holder)
    if (!is_key_type_char(c) && c != ':')
      return {errc::invalid_argument,
              "a lease holder has a disallowed character (allowed: A-Z a-z "
              "0-9 . _ - :)"};
  return true;
}

outcome<bool> validate_key_id(std::string_view id) {
  return validate_name("key id", id, max_key_id_bytes);
}

outcome<bool> validate_creds_field(std::string_view name) {
  if (auto ok = validate_name("creds field name", name, max_creds_field_bytes);
      !ok)
    return ok;
  // The name becomes a key of the creds document (JSON) on every read.
  if (!is_utf8(name))
    return {errc::invalid_argument, "a creds field name ("
                                      + std::to_string(name.size())
                                      + " bytes) is not UTF-8 text"};
  return true;
}

std::string creds_field_name(std::string_view name) {
  std::string result{creds_prefix};
  result += name;
  return result;
}

std::string key_field_name(std::string_view type, std::string_view id) {
  std::string result{key_prefix};
  result.reserve(3 + type.size() + id.size());
  result += type;
  result += '/';
  result += id;
  return result;
}

bool is_creds_field(std::string_view field) {
  return has_prefix(field, creds_prefix);
}

bool is_key_field(std::string_view field) {
  return has_prefix(field, key_prefix);
}

std::string_view field_subject(std::string_view field) {
  static_assert(creds_prefix.size() == key_prefix.size());
  if (is_creds_field(field) || is_key_field(field))
    return field.substr(creds_prefix.size());
  return {};
}

bool split_key_field(std::string_view field, std::string_view& type,
                     std::string_view& id) {
  if (!is_key_field(field))
    return false;
  auto rest = field.substr(key_prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return false;
  type = rest.substr(0, slash);
  id = rest.substr(slash + 1);
  return true;
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

outcome<bool> validate_patch(const patch& p, const patch_limits& limits) {
  if (p.if_absent && (p.replace || p.expected_version != any_version))
    return {errc::invalid_argument,
            "if_absent excludes replace and an expected version"};
  if (p.writes.size() > limits.max_writes)
    return {errc::too_many_fields,
            "patch has " + std::to_string(p.writes.size()) + " writes, at most "
              + std::to_string(limits.max_writes) + " are allowed"};
  if (auto n = p.payload_bytes(); n > limits.max_patch_bytes)
    return {errc::value_too_large,
            "patch has " + std::to_string(n) + " bytes, at most "
              + std::to_string(limits.max_patch_bytes) + " are allowed"};
  for (const auto& w : p.writes) {
    bool creds = is_creds_field(w.field);
    std::string_view type;
    std::string_view id;
    if (creds) {
      if (auto ok = validate_creds_field(field_subject(w.field)); !ok)
        return ok;
    } else if (is_key_field(w.field)) {
      if (!split_key_field(w.field, type, id))
        return {errc::invalid_argument, "key field without '/'"};
      if (auto ok = validate_key_type(type); !ok)
        return ok;
      if (auto ok = validate_key_id(id); !ok)
        return ok;
    } else {
      return {errc::invalid_argument,
              "field name must start with 'c:' or 'k:'"};
    }
    if (!w.erase && w.value.empty())
      return {errc::invalid_argument, "an upsert needs a JSON value"};
    if (w.value.size() > limits.value.max_value_bytes)
      return {errc::value_too_large,
              "value of " + std::string{creds ? "creds field" : "key"} + " has "
                + std::to_string(w.value.size()) + " bytes, at most "
                + std::to_string(limits.value.max_value_bytes)
                + " are allowed"};
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
