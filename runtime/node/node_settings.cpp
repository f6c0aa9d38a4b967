// node_settings.cpp -- TLS file checks, CAF's OpenSSL module, middleman
// and scheduler settings (node_settings.hpp).
#include "runtime/node/node_settings.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>

#include <caf/actor_system_config.hpp>

#ifdef AUTHSTORE_HAVE_TLS
#include <caf/openssl/manager.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#endif

#include "runtime/node/openssl_queue_fix.hpp"

namespace authstore {

using std::chrono::milliseconds;

tls_files tls_files::from(const settings& s) {
  tls_files result;
  result.cert = s.remote_tls_cert();
  result.key = s.remote_tls_key();
  result.ca = s.remote_tls_ca();
  return result;
}

bool tls_supported() {
#ifdef AUTHSTORE_HAVE_TLS
  return true;
#else
  return false;
#endif
}

namespace {

failure tls_problem(const char* key, const std::string& path,
                    const std::string& why) {
  return failure{errc::invalid_config,
                 std::string{key} + ": '" + path + "' " + why};
}

/// Whether `path` can be opened for reading; the reason when not.
std::string unreadable(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr)
    return std::strerror(errno);
  std::fclose(f);
  return {};
}

#ifdef AUTHSTORE_HAVE_TLS

/// OpenSSL's queued errors as one line (and the queue emptied, so that
/// nothing stale reaches CAF's own calls on this thread).
std::string ssl_errors() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    result += (result.empty() ? "" : "; ") + std::string{buf};
  }
  return result.empty() ? "no detail from OpenSSL" : result;
}

/// Refuses to decrypt: without it OpenSSL would prompt on the terminal for
/// the passphrase of an encrypted key.
int no_passphrase(char*, int, int, void*) {
  return 0;
}

#endif

} // namespace

outcome<bool> check_tls_files(const tls_files& files) {
  std::pair<const char*, const std::string*> rows[]
    = {{"remote.tls-cert", &files.cert},
       {"remote.tls-key", &files.key},
       {"remote.tls-ca", &files.ca}};
  if (!files.enabled() && files.key.empty() && files.ca.empty())
    return true;
  if (auto why = tls_files_incomplete(files.cert, files.key, files.ca);
      !why.empty())
    return failure{errc::invalid_config, std::move(why)};
  if (!tls_supported())
    return failure{errc::invalid_config,
                   "remote.tls-cert is set, but this build has no TLS (CAF's "
                   "OpenSSL module, libcaf_openssl, was not found when it "
                   "was built)"};
  for (auto& [key, path] : rows)
    if (auto why = unreadable(*path); !why.empty())
      return tls_problem(key, *path, "cannot be read: " + why);
#ifdef AUTHSTORE_HAVE_TLS
  // The same calls CAF makes per connection (libcaf_openssl session.cpp),
  // plus the key check CAF skips (a mismatch there fails every handshake).
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx{SSL_CTX_new(TLS_method()),
                                                   SSL_CTX_free};
  if (!ctx)
    return failure{errc::internal,
                   "cannot create an OpenSSL context: " + ssl_errors()};
  SSL_CTX_set_default_passwd_cb(ctx.get(), no_passphrase);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert.c_str()) != 1)
    return tls_problem("remote.tls-cert", files.cert,
                       "is not a usable PEM certificate: " + ssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key.c_str(),
                                  SSL_FILETYPE_PEM)
      != 1) {
    // OpenSSL compares the key with the certificate loaded before it.
    bool mismatch
      = ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH;
    return tls_problem("remote.tls-key", files.key,
                       (mismatch ? "does not match the certificate in "
                                   "remote.tls-cert ("
                                     + files.cert + ")"
                                 : std::string{"is not an unencrypted PEM "
                                               "private key"})
                         + ": " + ssl_errors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return tls_problem("remote.tls-key", files.key,
                       "does not match the certificate in remote.tls-cert ("
                         + files.cert + "): " + ssl_errors());
  if (SSL_CTX_load_verify_locations(ctx.get(), files.ca.c_str(), nullptr) != 1)
    return tls_problem("remote.tls-ca", files.ca,
                       "holds no usable PEM CA certificate: " + ssl_errors());
#endif
  return true;
}

void configure_tls(caf::actor_system_config& cfg, const tls_files& files) {
  if (!files.enabled())
    return;
#ifdef AUTHSTORE_HAVE_TLS
  keep_openssl_queue_fix();
  cfg.load<caf::openssl::manager>();
  // The members behind openssl.certificate, openssl.key, openssl.cafile
  // (set directly: CAF reads them, not the settings map, per connection).
  cfg.openssl_certificate = files.cert;
  cfg.openssl_key = files.key;
  cfg.openssl_cafile = files.ca;
#else
  (void)cfg;
#endif
}

void configure_middleman(caf::actor_system_config& cfg, milliseconds heartbeat,
                         milliseconds connection_timeout) {
  cfg.set("middleman.heartbeat-interval", caf::timespan{heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{connection_timeout});
}

void configure_remote_node(caf::actor_system_config& cfg, const settings& s) {
  configure_middleman(cfg, s.remote_heartbeat_ms(),
                      s.remote_connection_timeout_ms());
}

bool is_loopback_address(const std::string& address) {
  return address == "localhost" || address == "::1"
         || address.rfind("127.", 0) == 0;
}

void configure_scheduler(caf::actor_system_config& cfg, const settings& s) {
  cfg.set("scheduler.max-threads",
          static_cast<size_t>(s.scheduler_max_threads()));
  cfg.set("work-stealing.moderate-sleep-duration",
          caf::timespan{s.scheduler_moderate_sleep_us()});
}

} // namespace authstore
