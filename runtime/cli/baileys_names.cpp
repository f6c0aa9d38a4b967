// baileys_names.cpp -- useMultiFileAuthState's file names, both ways
// (baileys_names.hpp says what Baileys does and why the way back is per
// type).
#include "runtime/cli/baileys_names.hpp"

#include <algorithm>
#include <vector>

#include "messages/model.hpp"

namespace authstore {

namespace {

constexpr std::string_view json_suffix = ".json";

failure bad(std::string why) {
  return {errc::invalid_argument, std::move(why)};
}

/// The known types, longest first, so that a type that is a prefix of
/// another ("sender-key" of "sender-key-memory") is tried last.
const std::vector<std::string>& known_types_longest_first() {
  static const std::vector<std::string> types = [] {
    auto t = baileys_key_types;
    std::stable_sort(t.begin(), t.end(), [](const auto& a, const auto& b) {
      return a.size() > b.size();
    });
    return t;
  }();
  return types;
}

bool is_lowercase_word(std::string_view w) {
  return !w.empty() && std::all_of(w.begin(), w.end(), [](char c) {
    return c >= 'a' && c <= 'z';
  });
}

/// Every occurrence of `from` replaced by `to`, left to right.
std::string replace_all(std::string_view text, std::string_view from,
                        std::string_view to) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  for (auto hit = text.find(from); hit != std::string_view::npos;
       hit = text.find(from, at)) {
    out.append(text.substr(at, hit - at));
    out.append(to);
    at = hit + from.size();
  }
  out.append(text.substr(at));
  return out;
}

/// "G--U--D" -> "G::U::D": the last two "--" of a sender-key name were the
/// "::" of SenderKeyName.serialize() (the user holds no '-', the device is
/// digits; the group id may hold '-').
outcome<std::string> unescape_sender_key(std::string_view id) {
  auto dev = id.rfind("--");
  if (dev == std::string_view::npos || dev == 0 || dev + 2 == id.size())
    return bad("a sender-key file name ends in --<user>--<device>");
  auto device = id.substr(dev + 2);
  if (!std::all_of(device.begin(), device.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return bad("a sender-key device (after the last --) is digits");
  auto usr = id.substr(0, dev).rfind("--");
  if (usr == std::string_view::npos || usr == 0 || usr + 2 == dev)
    return bad("a sender-key file name ends in --<user>--<device>");
  auto user = id.substr(usr + 2, dev - usr - 2);
  if (user.find('-') != std::string_view::npos)
    return bad("a sender-key user (between the last two --) has no '-'");
  std::string out{id.substr(0, usr)};
  out += "::";
  out += user;
  out += "::";
  out += device;
  return out;
}

/// The id Baileys used, from the id part of a file name of `type`.
outcome<std::string> unescape_id(std::string_view type, std::string_view id) {
  if (type == "sender-key")
    return unescape_sender_key(id);
  if (type == "app-state-sync-key")
    return replace_all(id, "__", "/");
  return std::string{id};
}

} // namespace

outcome<baileys_key_name> parse_key_file_name(std::string_view file) {
  if (file.find('/') != std::string_view::npos
      || file.find('\\') != std::string_view::npos)
    return bad("the name has a path separator");
  if (file.size() <= json_suffix.size()
      || file.substr(file.size() - json_suffix.size()) != json_suffix)
    return bad("not a Baileys file: useMultiFileAuthState writes creds.json "
               "and <type>-<id>.json only");
  auto stem = file.substr(0, file.size() - json_suffix.size());
  baileys_key_name result;
  std::string_view id;
  for (const auto& t : known_types_longest_first()) {
    if (stem.compare(0, t.size(), t) != 0
        || (stem.size() > t.size() && stem[t.size()] != '-'))
      continue;
    if (stem.size() <= t.size() + 1)
      return bad("a " + t + " file without an id: no <type>-<id>");
    result.type = t;
    result.known_type = true;
    id = stem.substr(t.size() + 1);
    break;
  }
  if (!result.known_type) {
    // The longest run of lowercase words that leaves a non-empty id.
    size_t end = 0; // one past the type
    for (size_t at = 0;;) {
      auto dash = stem.find('-', at);
      if (dash == std::string_view::npos || dash + 1 == stem.size()
          || !is_lowercase_word(stem.substr(at, dash - at)))
        break;
      end = dash;
      at = dash + 1;
    }
    if (end == 0)
      return bad("not a Baileys key file: no <type>-<id> (a type is "
                 "lowercase words joined by '-')");
    result.type = std::string{stem.substr(0, end)};
    // "pre-key.json" is a broken pre-key file, not type "pre" with id
    // "key": an unknown type is never the first words of a known one.
    for (const auto& t : baileys_key_types)
      if (t.size() > end && t.compare(0, end, result.type) == 0
          && t[end] == '-')
        return bad("not a Baileys key file: no <type>-<id> (" + result.type
                   + " begins a known type)");
    id = stem.substr(end + 1);
  }
  auto unescaped = unescape_id(result.type, id);
  if (!unescaped)
    return unescaped.error();
  result.id = std::move(*unescaped);
  if (auto ok = validate_key_type(result.type); !ok)
    return ok.error();
  if (auto ok = validate_key_id(result.id); !ok)
    return ok.error();
  return result;
}

std::string key_file_name(std::string_view type, std::string_view id) {
  std::string file{type};
  file += '-';
  file += id;
  file += json_suffix;
  // fixFileName: '/' -> "__", then ':' -> '-'.
  auto slashes = replace_all(file, "/", "__");
  std::replace(slashes.begin(), slashes.end(), ':', '-');
  return slashes;
}

} // namespace authstore
