// HTTPS on the HTTP API of `authstore serve` (issue #14) with the
// remote.tls-* files and a throwaway PKI (tests/e2e/test_pki.hpp): mutual
// TLS by default, server-side TLS with api.tls-require-client-cert false,
// no plain HTTP on the port, the bearer secret still required.
#include "tests/e2e/http_api_support.hpp"

#include "tests/e2e/test_pki.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace http_tls_e2etest {

using namespace http_test;
using std::chrono::milliseconds;

TEST_CASE("HTTPS with the remote.tls-* files: client certificates from the "
          "CA, nothing in plain text",
          "[http][tls]") {
  remote_test::pki certs;
  auto server_files = certs.files("server", "ca");
  auto client = certs.files("client", "ca");
  auto rogue = certs.files("rogue", "other-ca");
  auto node = start_api_node(remote_test::pki::flags(server_files));
  std::string why;
  auto c
    = connection::open_tls(node.port(), certs.path("ca.pem"), &client, &why);
  INFO(why);
  REQUIRE(c);
  auto w = call(*c, "POST", "/v1/sessions/tls-1/write", R"({"creds":{"a":1}})");
  CHECK(w.status == 200);
  CHECK(body_of(call(*c, "GET", "/v1/sessions/tls-1/creds"))
        == json::parse(R"({"version":1,"creds":{"a":1}})"));
  // Without a client certificate, or with one another CA signed: refused
  // (at the handshake, or at the first read under TLS 1.3).
  for (const auto* files :
       {static_cast<authstore::tls_files*>(nullptr), &rogue}) {
    auto bad = connection::open_tls(node.port(), certs.path("ca.pem"), files);
    if (bad) {
      bad->send(request("GET", "/v1/health"));
      CHECK_FALSE(bad->read(milliseconds{2000}));
    }
  }
  // Plain HTTP to the HTTPS port gets no HTTP answer.
  auto plain = node.connect();
  plain->send(request("GET", "/v1/health"));
  CHECK_FALSE(plain->read(milliseconds{2000}));
  // The good connection still works.
  CHECK(call(*c, "GET", "/v1/sessions/tls-1/exists").status == 200);
}

TEST_CASE("HTTPS without client certificates when api.tls-require-client-cert "
          "is false; the bearer secret still applies",
          "[http][tls]") {
  remote_test::pki certs;
  auto node
    = start_api_node(plus(remote_test::pki::flags(certs.files("server", "ca")),
                          {"--api.tls-require-client-cert", "false"}));
  auto c = connection::open_tls(node.port(), certs.path("ca.pem"), nullptr);
  REQUIRE(c);
  CHECK(call(*c, "GET", "/v1/sessions/tls-2/exists").status == 200);
  REQUIRE(c->send(request("GET", "/v1/sessions/tls-2/exists")));
  auto r = c->read();
  REQUIRE(r);
  CHECK(r->status == 401);
}

} // namespace http_tls_e2etest
