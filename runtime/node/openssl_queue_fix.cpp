// openssl_queue_fix.cpp -- a fix for libcaf_openssl 0.17.6: stale OpenSSL
// errors.
//
// SSL_get_error() reads the calling thread's OpenSSL error queue, which must
// be empty before each SSL I/O call (SSL_get_error(3)). libcaf_openssl never
// clears it, and all TLS connections of a node share the multiplexer
// thread. So one peer's failed handshake (a port scan's connect-and-close,
// a plain client, an untrusted certificate) left an error queued, and the
// next SSL_read of every *established* connection that had to wait for data
// (SSL_ERROR_WANT_READ) was misread as SSL_ERROR_SSL: CAF closed those
// connections and their requests in flight ended as "outcome unknown"
// (found by remote_tls_e2etest; a new handshake cleared the queue again).
//
// The fix: these definitions in the executable take the place of libssl's
// for every caller in the process (the dynamic linker binds
// libcaf_openssl's calls to them, as it does for an interposed malloc);
// each clears the queue and calls libssl's own function. Other OpenSSL
// users in the process (libmongoc's TLS) are unaffected beyond the cleared
// queue, which OpenSSL requires before these calls anyway.
//
// Linking: the definitions must end up in every executable that runs TLS
// through CAF. A static library's object is linked only when something
// references it, so configure_tls (node_settings.cpp) calls
// keep_openssl_queue_fix(), which lives here.
#include "runtime/node/openssl_queue_fix.hpp"

#ifdef AUTHSTORE_HAVE_TLS

#include <cstdio>
#include <cstdlib>

#include <dlfcn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class F>
F real_ssl_function(const char* name) {
  void* f = dlsym(RTLD_NEXT, name);
  if (f == nullptr) {
    std::fprintf(stderr, "authstore: libssl has no %s\n", name);
    std::abort();
  }
  return reinterpret_cast<F>(f);
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto real = real_ssl_function<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto real
    = real_ssl_function<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return real(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto real = real_ssl_function<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return real(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto real = real_ssl_function<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return real(ssl);
}

} // extern "C"

#endif

namespace authstore {

void keep_openssl_queue_fix() {
  // Nothing to do at run time: being called is what links this file.
}

} // namespace authstore
