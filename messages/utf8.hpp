// utf8.hpp -- whether bytes are well-formed UTF-8.
//
// Why: a name that becomes a JSON object key (a creds field name: the creds
// document is assembled from the names, redis/layout.cpp) must be text JSON
// can hold. nlohmann's dump() throws on anything else, and an exception
// escaping a session actor's handler kills it (found by
// fuzz/redis_reply_fuzz.cpp, issue #17). CAF-free.
#pragma once

#include <string_view>

namespace authstore {

/// Whether `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no
/// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
/// sequence -- exactly what nlohmann's dump() accepts.
bool is_utf8(std::string_view text);

} // namespace authstore
