// session_id.cpp -- see session_id.hpp.
#include "messages/session_id.hpp"

#include <string>

namespace authstore {

bool is_session_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@'
         || c == ':' || c == '-';
}

outcome<bool> validate_session_id(std::string_view sid) {
  if (sid.empty())
    return {errc::invalid_session_id, "session id is empty"};
  if (sid.size() > max_session_id_bytes)
    return {errc::invalid_session_id,
            "session id has " + std::to_string(sid.size()) + " bytes, at most "
              + std::to_string(max_session_id_bytes) + " are allowed"};
  for (size_t i = 0; i < sid.size(); ++i)
    if (!is_session_id_char(sid[i]))
      return {errc::invalid_session_id,
              "session id has a disallowed byte at position "
                + std::to_string(i) + " (allowed: A-Z a-z 0-9 . _ @ : -)"};
  return true;
}

} // namespace authstore
