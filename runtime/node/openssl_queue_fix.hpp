// openssl_queue_fix.hpp -- links the fix for libcaf_openssl's stale OpenSSL
// error queue into the executable (openssl_queue_fix.cpp says why).
#pragma once

namespace authstore {

/// Does nothing; calling it keeps openssl_queue_fix.cpp's SSL_* wrappers
/// in the executable. configure_tls calls it.
void keep_openssl_queue_fix();

} // namespace authstore
