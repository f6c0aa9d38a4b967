// test_pki.hpp -- a throwaway PKI for TLS tests (remote access and the
// HTTP API), made per test with the `openssl` CLI in a private temp
// directory and removed afterwards (no key is ever committed): a CA, a
// server and a client certificate it signed, and a second CA ("other-ca")
// that signed only "rogue".
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/node/node_settings.hpp"

namespace remote_test {

using authstore::tls_files;

/// A throwaway PKI in a private temp directory (removed by the destructor).
class pki {
public:
  pki() {
    char tmpl[] = "/tmp/authstore-tls-e2e-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    // EC P-256: fast to make, accepted at OpenSSL's default security level.
    auto self_signed = [&](const std::string& name) {
      sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
         "-nodes -keyout "
         + name + ".key -out " + name + ".pem -days 2 -subj /CN=" + name);
    };
    auto signed_by = [&](const std::string& name, const std::string& ca) {
      sh("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
         "-keyout "
         + name + ".key -out " + name + ".csr -subj /CN=" + name);
      sh("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey "
         + ca + ".key -CAcreateserial -out " + name + ".pem -days 2");
    };
    self_signed("ca");
    self_signed("other-ca");
    signed_by("server", "ca");
    signed_by("client", "ca");
    signed_by("rogue", "other-ca");
  }

  ~pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  /// The path of `name` (e.g. "server.pem") in the directory.
  std::string path(const std::string& name) const { return dir_ + "/" + name; }

  /// Files of one side: NAME.pem, NAME.key, CA.pem.
  tls_files files(const std::string& name, const std::string& ca) const {
    return {path(name + ".pem"), path(name + ".key"), path(ca + ".pem")};
  }

  /// `serve` flags for `f`.
  static std::vector<std::string> flags(const tls_files& f) {
    return {"--remote.tls-cert", f.cert, "--remote.tls-key", f.key,
            "--remote.tls-ca",   f.ca};
  }

private:
  void sh(const std::string& cmd) {
    auto full = "cd " + dir_ + " && " + cmd + " >/dev/null 2>&1";
    INFO(full);
    REQUIRE(std::system(full.c_str()) == 0);
  }

  std::string dir_;
};

} // namespace remote_test
