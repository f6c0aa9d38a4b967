// secret_compare.hpp -- comparing a presented secret with the configured
// one in time that does not depend on their contents.
//
// Why: a front door that compared with memcmp/== would answer a wrong
// guess faster the earlier it differs, and a client measuring that could
// find the secret byte by byte. Both front doors use this: the remote
// handshake's proofs (runtime/remote/auth.hpp, proofs_equal) and the HTTP
// API's `Authorization: Bearer` (runtime/http/api_service.cpp).
// CAF-free.
#pragma once

#include <string_view>

namespace authstore {

/// Whether `given` equals `expected`. The time taken depends only on the
/// length of `expected` (the secret's, which is not secret enough to
/// matter), not on where the two differ nor on the length of `given`.
bool equal_in_constant_time(std::string_view given, std::string_view expected);

} // namespace authstore
