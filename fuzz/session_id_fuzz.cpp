// session_id_fuzz.cpp -- the session-id allow-list and the key/creds name
// checks (messages/session_id.hpp, messages/model.hpp) on arbitrary bytes,
// each against an oracle written here from the documented rule:
//   session id  [A-Za-z0-9._@:-]{1,128}
//   key type    [A-Za-z0-9._-]{1,64}
//   key id      1..256 bytes, no NUL
//   creds field 1..128 bytes of UTF-8, no NUL (nlohmann is the UTF-8 oracle)
// and a one-write patch built from valid names passes validate_patch (its
// field name splits back into the same type and id).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_check.hpp"
#include "messages/model.hpp"
#include "messages/session_id.hpp"
#include "messages/utf8.hpp"

using namespace authstore;

namespace {

bool only(std::string_view x, const char* allowed) {
  for (char c : x)
    if (c == '\0' || std::strchr(allowed, c) == nullptr)
      return false;
  return true;
}

constexpr const char* alnum
  = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// nlohmann's serializer as the oracle of is_utf8: it throws on exactly
/// the byte strings that are not UTF-8.
bool json_can_hold(std::string_view x) {
  try {
    nlohmann::json(std::string{x}).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

bool sized(std::string_view x, size_t max) {
  return !x.empty() && x.size() <= max;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string sid_chars = std::string{alnum} + "._@:-";
  std::string type_chars = std::string{alnum} + "._-";
  bool sid_ok
    = sized(text, max_session_id_bytes) && only(text, sid_chars.c_str());
  FUZZ_CHECK(static_cast<bool>(validate_session_id(text)) == sid_ok);
  FUZZ_CHECK(is_utf8(text) == json_can_hold(text));
  for (char c : text)
    FUZZ_CHECK(is_session_id_char(c)
               == (c != '\0' && std::strchr(sid_chars.c_str(), c) != nullptr));
  bool type_ok
    = sized(text, max_key_type_bytes) && only(text, type_chars.c_str());
  FUZZ_CHECK(static_cast<bool>(validate_key_type(text)) == type_ok);
  bool no_nul = text.find('\0') == std::string_view::npos;
  bool id_ok = sized(text, max_key_id_bytes) && no_nul;
  FUZZ_CHECK(static_cast<bool>(validate_key_id(text)) == id_ok);
  FUZZ_CHECK(
    static_cast<bool>(validate_creds_field(text))
    == (sized(text, max_creds_field_bytes) && no_nul && json_can_hold(text)));

  // The input split at its first '/' as a key (type, id), and whole as a
  // creds field: valid names make a valid patch.
  auto slash = text.find('/');
  auto type = text.substr(0, slash);
  auto id = slash == std::string_view::npos ? std::string_view{}
                                            : text.substr(slash + 1);
  patch p;
  p.set_key(type, id, "1");
  bool key_ok = validate_key_type(type) && validate_key_id(id);
  FUZZ_CHECK(static_cast<bool>(validate_patch(p, patch_limits{})) == key_ok);
  patch c;
  c.set_creds(text, "true");
  FUZZ_CHECK(static_cast<bool>(validate_patch(c, patch_limits{}))
             == static_cast<bool>(validate_creds_field(text)));
  return 0;
}
