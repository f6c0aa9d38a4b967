// session_id.hpp -- the allow-list for session ids, checked before any
// backend call.
//
// Why an allow-list: ids end up inside Redis key names and MongoDB _ids. `{`
// and `}` would steer Redis Cluster hash tags, whitespace and control bytes
// break logs and CLIs, and non-ASCII invites normalization ambiguities.
// Allowed: ASCII letters, digits and `. _ @ : -`, 1..128 bytes.
#pragma once

#include <cstddef>
#include <string_view>

#include "messages/errors.hpp"

namespace authstore {

/// Longest session id accepted, in bytes.
constexpr size_t max_session_id_bytes = 128;

/// True when `c` may appear in a session id.
bool is_session_id_char(char c);

/// Checks `sid` against the allow-list. On failure the detail names the
/// offending byte position (never echoes a secret-looking value verbatim).
outcome<bool> validate_session_id(std::string_view sid);

} // namespace authstore
