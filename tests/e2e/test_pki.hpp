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

  } // namespace remote_test
