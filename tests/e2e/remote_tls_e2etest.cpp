// TLS on remote access (issue #6): real `authstore serve` processes on
// loopback with remote.tls-*, clients in this process. A throwaway PKI is
// made per test with the `openssl` CLI in a private temp directory and
// removed afterwards (no key is ever committed): a CA, a server and a
// client certificate it signed, and a second CA that signed nothing the
// server uses. Checks: a TLS round trip (with the shared secret on too);
// TLS and plain peers refuse each other fast with a clear error while the
// server keeps serving; a client that does not trust the server's CA, and a
// client the server's CA did not sign, are refused; bad TLS files stop
// `serve` and the client before anything starts.
#include "runtime/remote/client.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <sys/socket.h>

#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"
#include "tests/e2e/test_pki.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_tls_e2etest {

using namespace authstore;
using remote_test::client_options;
using remote_test::elapsed_ms;
using remote_test::pki;
using remote_test::run_to_exit;
using remote_test::serve_process;

namespace {

using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

/// A refused connection must end well within the handshake timeout
/// (3000 ms by default): CAF reports TLS failures as a closed connection.
constexpr int64_t refusal_bound_ms = 3000;

patch creds_patch(const std::string& field, const std::string& json) {
  patch p;
  p.set_creds(field, json);
  return p;
}

remote_options tls_client(const tls_files& f) {
  auto o = client_options();
  o.tls = f;
  return o;
}

/// Connects to 127.0.0.1:`port` over plain TCP, sends `bytes` (maybe none)
/// and closes: what a port scanner or a confused peer does.
void poke(uint16_t port, const std::string& bytes) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (!bytes.empty())
    CHECK(::write(fd, bytes.data(), bytes.size())
          == static_cast<ssize_t>(bytes.size()));
  std::this_thread::sleep_for(milliseconds{100});
  ::close(fd);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a TLS client and a TLS server round-trip writes and reads, with "
          "the shared secret still required",
          "[remote][tls]") {
  REQUIRE(tls_supported());
  pki certs;
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url(),
                                     pki::flags(certs.files("server", "ca")));
  REQUIRE(server);
  CHECK(contains(server->log(), "TLS on"));
  auto c = remote_client::connect("127.0.0.1", server->port(),
                                  tls_client(certs.files("client", "ca")));
  REQUIRE(c);
  auto v = (*c)->set("tls-s1", creds_patch("me", R"({"id":"tls"})"));
  REQUIRE(v);
  CHECK(*v == 1);
  auto read = (*c)->get_creds("tls-s1");
  REQUIRE(read);
  CHECK(read->found);
  CHECK(read->creds_json == R"({"me":{"id":"tls"}})");
  // TLS does not replace the handshake: a good certificate with the wrong
  // secret is still refused.
  auto wrong = tls_client(certs.files("client", "ca"));
  wrong.secret = "a-different-secret-0123456789";
  auto refused = remote_client::connect("127.0.0.1", server->port(), wrong);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == errc::unauthorized);
}

TEST_CASE("a TLS server refuses a plain client fast and keeps serving TLS "
          "clients",
          "[remote][tls]") {
  pki certs;
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url(),
                                     pki::flags(certs.files("server", "ca")));
  REQUIRE(server);
  auto good = remote_client::connect("127.0.0.1", server->port(),
                                     tls_client(certs.files("client", "ca")));
  REQUIRE(good);
  REQUIRE((*good)->set("tls-s2", creds_patch("me", "1")));
  auto t0 = steady::now();
  auto plain
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  auto took = elapsed_ms(t0);
  REQUIRE_FALSE(plain);
  CHECK(plain.error().code == errc::unreachable);
  CHECK(contains(plain.error().detail, "remote.tls-cert"));
  CHECK(took < refusal_bound_ms);
  // A port scan and garbage: failed handshakes too.
  poke(server->port(), "");
  poke(server->port(), "GET / HTTP/1.0\r\n\r\n");
  std::this_thread::sleep_for(milliseconds{200});
  // The open TLS connection (the same one: no reconnect in between) and new
  // TLS clients are unaffected. Before the fix in remote_server.cpp (stale
  // OpenSSL errors), the failed handshakes above dropped it.
  auto read = (*good)->get_creds("tls-s2");
  INFO("server log: " << server->log());
  INFO((read ? std::string{} : read.error().render()));
  REQUIRE(read);
  CHECK((*good)->connected());
  CHECK(read->creds_json == R"({"me":1})");
  auto again = remote_client::connect("127.0.0.1", server->port(),
                                      tls_client(certs.files("client", "ca")));
  REQUIRE(again);
  auto exists = (*again)->exists("tls-s2");
  REQUIRE(exists);
  CHECK(*exists);
  CHECK(server->wait(milliseconds{0}) == -1);
}

TEST_CASE("a plain server refuses a TLS client fast", "[remote][tls]") {
  pki certs;
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto t0 = steady::now();
  auto c = remote_client::connect("127.0.0.1", server->port(),
                                  tls_client(certs.files("client", "ca")));
  auto took = elapsed_ms(t0);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::unreachable);
  CHECK(contains(c.error().detail, "over TLS"));
  CHECK(took < refusal_bound_ms);
  auto plain
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(plain);
  CHECK((*plain)->set("tls-s3", creds_patch("me", "1")));
}

TEST_CASE("certificates from an untrusted CA are refused on either side",
          "[remote][tls]") {
  pki certs;
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url(),
                                     pki::flags(certs.files("server", "ca")));
  REQUIRE(server);
  SECTION("a client whose CA did not sign the server's certificate") {
    auto t0 = steady::now();
    auto c
      = remote_client::connect("127.0.0.1", server->port(),
                               tls_client(certs.files("client", "other-ca")));
    auto took = elapsed_ms(t0);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::unreachable);
    CHECK(contains(c.error().detail, certs.path("other-ca.pem")));
    CHECK(took < refusal_bound_ms);
  }
  SECTION("a client certificate the server's CA did not sign") {
    auto t0 = steady::now();
    auto c = remote_client::connect("127.0.0.1", server->port(),
                                    tls_client(certs.files("rogue", "ca")));
    auto took = elapsed_ms(t0);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::unreachable);
    CHECK(took < refusal_bound_ms);
  }
  // Either way the server keeps serving clients it trusts.
  auto good = remote_client::connect("127.0.0.1", server->port(),
                                     tls_client(certs.files("client", "ca")));
  REQUIRE(good);
  CHECK((*good)->set("tls-s4", creds_patch("me", "1")));
  CHECK(server->wait(milliseconds{0}) == -1);
}

TEST_CASE("serve refuses bad TLS files at start with exit code 2, naming the "
          "setting, before anything starts",
          "[remote][tls][config]") {
  pki certs;
  // Nothing listens at this Redis: the engine would start anyway (it does
  // not need Redis to listen), so only the TLS check can stop `serve`.
  auto dead_port = free_loopback_port();
  REQUIRE(dead_port);
  auto redis_url = "redis://127.0.0.1:" + std::to_string(*dead_port) + "/0";
  auto good = certs.files("server", "ca");
  struct row {
    const char* what;
    std::vector<std::string> flags;
    const char* setting;
    const char* why;
  };
  std::vector<row> rows = {
    {"a missing certificate file",
     pki::flags({certs.path("missing.pem"), good.key, good.ca}),
     "remote.tls-cert", "cannot be read"},
    {"a key that does not match the certificate",
     pki::flags({good.cert, certs.path("client.key"), good.ca}),
     "remote.tls-key", "does not match the certificate"},
    {"a key file as the certificate", pki::flags({good.key, good.key, good.ca}),
     "remote.tls-cert", "is not a usable PEM certificate"},
    {"a CA file without certificates",
     pki::flags({good.cert, good.key, good.key}), "remote.tls-ca",
     "holds no usable PEM CA certificate"},
    {"a certificate without the CA",
     {"--remote.tls-cert", good.cert, "--remote.tls-key", good.key},
     "remote.tls-ca",
     "must be set too"},
  };
  for (auto& r : rows) {
    INFO(r.what);
    std::vector<std::string> args
      = {"serve", "--port", "0", "--redis", redis_url};
    args.insert(args.end(), r.flags.begin(), r.flags.end());
    auto t0 = steady::now();
    auto res = run_to_exit(args, {"AUTHSTORE_SECRET=" + remote_test::secret},
                           milliseconds{10000});
    INFO("stderr: " << res.err);
    CHECK(res.code == 2);
    CHECK(elapsed_ms(t0) < 5000);
    CHECK(contains(res.err, r.setting));
    CHECK(contains(res.err, r.why));
    CHECK(res.out.empty()); // never "listening on"
  }
}

TEST_CASE("a client refuses bad TLS files before connecting",
          "[remote][tls][config]") {
  pki certs;
  auto f = certs.files("client", "ca");
  f.key = certs.path("server.key");
  auto c = remote_client::connect("127.0.0.1", 1, tls_client(f));
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::invalid_config);
  CHECK(contains(c.error().detail, "remote.tls-key"));
  auto partial = certs.files("client", "ca");
  partial.ca.clear();
  auto p = remote_client::connect("127.0.0.1", 1, tls_client(partial));
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::invalid_config);
  CHECK(contains(p.error().detail, "remote.tls-ca"));
}

} // namespace remote_tls_e2etest
