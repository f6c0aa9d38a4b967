// Who may talk to `authstore serve`, at the protocol level: real server
// processes on loopback, clients in this process (remote_client, and raw
// CAF for peers that misbehave on purpose). Refusals must be clear errors
// and must never hurt the connections of others or the node.
#include "runtime/remote/client.hpp"
#include "runtime/remote/client_actors.hpp"

#include <cstdio>
#include <fstream>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "messages/interfaces.hpp"
#include "runtime/remote/auth.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/remote_harness.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace remote_auth_e2etest {

using namespace authstore;
using remote_test::client_options;
using remote_test::serve_process;

namespace {

using std::chrono::seconds;

patch creds_patch(const std::string& field, const std::string& json) {
  patch p;
  p.set_creds(field, json);
  return p;
}

/// A typed handle that does not match the gate, as an old or foreign
/// client would have.
using foreign_gate = caf::typed_actor<
  caf::replies_to<hello_atom, std::string>::with<std::string>>;

struct raw_config : caf::actor_system_config {
  raw_config() {
    load<caf::io::middleman>();
    register_messages(*this);
    set("scheduler.max-threads", 1);
  }
};

/// Runs hello with `version`; returns (server nonce, server proof) or the
/// error.
outcome<std::pair<std::string, std::string>>
hello(caf::scoped_actor& self, const auth_gate_actor& gate, uint32_t version,
      const std::string& client_nonce) {
  outcome<std::pair<std::string, std::string>> result{errc::internal, "none"};
  self->request(gate, seconds{5}, hello_atom::value, version, client_nonce)
    .receive([&](std::string& sn,
                 std::string& proof) { result = std::make_pair(sn, proof); },
             [&](caf::error& e) { result = to_failure(e); });
  return result;
}

outcome<router_actor> auth(caf::scoped_actor& self, const auth_gate_actor& gate,
                           const std::string& sn, const std::string& proof) {
  outcome<router_actor> result{errc::internal, "none"};
  self->request(gate, seconds{5}, auth_atom::value, sn, proof)
    .receive([&](router_actor& s) { result = s; },
             [&](caf::error& e) { result = to_failure(e); });
  return result;
}

} // namespace

TEST_CASE("wrong secret, no secret and another protocol version are refused "
          "while the server keeps serving others",
          "[remote][auth]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto good
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(good);
  REQUIRE((*good)->set("auth-s1", creds_patch("me", R"({"id":"a"})")));

  auto wrong_opts = client_options();
  wrong_opts.secret = "a-different-secret-0123456789";
  auto wrong = remote_client::connect("127.0.0.1", server->port(), wrong_opts);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().code == errc::unauthorized);
  CHECK(wrong.error().detail.find("secrets differ") != std::string::npos);
  CHECK(wrong.error().detail.find(wrong_opts.secret) == std::string::npos);

  auto none_opts = client_options();
  none_opts.secret.clear();
  auto none = remote_client::connect("127.0.0.1", server->port(), none_opts);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == errc::unauthorized);
  CHECK(none.error().detail.find("AUTHSTORE_SECRET") != std::string::npos);

  auto old_opts = client_options();
  old_opts.protocol_version = remote_protocol_version + 1;
  auto old = remote_client::connect("127.0.0.1", server->port(), old_opts);
  REQUIRE_FALSE(old);
  CHECK(old.error().code == errc::protocol_mismatch);
  // The server names the version it speaks (2 since issues #14 and #16).
  CHECK(old.error().detail.find("remote protocol "
                                + std::to_string(remote_protocol_version))
        != std::string::npos);
  // A client of the protocol before issue #14's leases (version 1: its
  // patch has no lease) is refused in the hello, cleanly.
  REQUIRE(remote_protocol_version == 2);
  auto v1_opts = client_options();
  v1_opts.protocol_version = 1;
  auto v1 = remote_client::connect("127.0.0.1", server->port(), v1_opts);
  REQUIRE_FALSE(v1);
  CHECK(v1.error().code == errc::protocol_mismatch);
  CHECK(v1.error().detail.find("remote protocol 2") != std::string::npos);

  // The established connection and new good ones are unaffected.
  auto read = (*good)->get_creds("auth-s1");
  REQUIRE(read);
  CHECK(read->creds_json == R"({"me":{"id":"a"}})");
  auto again
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(again);
  auto exists = (*again)->exists("auth-s1");
  REQUIRE(exists);
  CHECK(*exists);
  CHECK(server->log().find("protocol_mismatch") != std::string::npos);
  CHECK(server->log().find(remote_test::secret) == std::string::npos);
}

TEST_CASE("the gate refuses forged and replayed proofs and survives unknown "
          "messages and kill attempts",
          "[remote][auth]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  raw_config cfg;
  caf::actor_system sys{cfg};
  {
    auto gate = sys.middleman().remote_actor<auth_gate_actor>("127.0.0.1",
                                                              server->port());
    REQUIRE(gate);
    caf::scoped_actor self{sys};
    const auto& key = remote_test::secret;
    auto cn = *make_nonce();
    auto h = hello(self, *gate, remote_protocol_version, cn);
    REQUIRE(h);
    // The server proves the secret to us first.
    CHECK(h->second
          == server_proof(key, remote_protocol_version, cn, h->first));
    // A forged proof is refused, and it used up the challenge: the right
    // proof for the same nonce no longer works (no replay, no guessing).
    auto forged = auth(self, *gate, h->first, std::string(64, '0'));
    REQUIRE_FALSE(forged);
    CHECK(forged.error().code == errc::unauthorized);
    auto replay
      = auth(self, *gate, h->first,
             client_proof(key, remote_protocol_version, h->first, cn));
    REQUIRE_FALSE(replay);
    CHECK(replay.error().code == errc::unauthorized);
    // The server's own proof is not a valid client proof (roles differ).
    auto h2 = hello(self, *gate, remote_protocol_version, cn);
    REQUIRE(h2);
    auto reflected = auth(self, *gate, h2->first, h2->second);
    REQUIRE_FALSE(reflected);
    CHECK(reflected.error().code == errc::unauthorized);
    CHECK_FALSE(hello(self, *gate, remote_protocol_version, "not-a-nonce"));

    // Unknown messages get an error back; exit messages, even kill, are
    // ignored by the gate.
    auto untyped = caf::actor_cast<caf::actor>(*gate);
    caf::anon_send(untyped, std::string{"garbage"});
    caf::anon_send_exit(untyped, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(untyped, caf::exit_reason::kill);
    bool unexpected = false;
    self->request(untyped, seconds{5}, std::string{"garbage"}, 42)
      .receive(
        [](int) {},
        [&](caf::error& e) { unexpected = e == caf::sec::unexpected_message; });
    CHECK(unexpected);

    // The gate still works, and the right proof gives a working session.
    auto h3 = hello(self, *gate, remote_protocol_version, cn);
    REQUIRE(h3);
    auto session
      = auth(self, *gate, h3->first,
             client_proof(key, remote_protocol_version, h3->first, cn));
    REQUIRE(session);
    bool stored = false;
    self
      ->request(*session, seconds{5}, set_atom::value, std::string{"raw-s1"},
                creds_patch("me", "1"))
      .receive([&](uint64_t v) { stored = v == 1; }, [](caf::error&) {});
    CHECK(stored);
    // Unknown messages to the session are refused without harming it.
    caf::anon_send(caf::actor_cast<caf::actor>(*session), 1, 2, 3);
    bool exists = false;
    self
      ->request(*session, seconds{5}, exists_atom::value, std::string{"raw-s1"})
      .receive([&](bool x) { exists = x; }, [](caf::error&) {});
    CHECK(exists);
  }
  // A handle built against another interface is refused at connect.
  auto foreign
    = sys.middleman().remote_actor<foreign_gate>("127.0.0.1", server->port());
  REQUIRE_FALSE(foreign);
  CHECK(to_failure(foreign.error()).code == errc::protocol_mismatch);
  // ... and the node still serves proper clients.
  auto good
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(good);
  auto read = (*good)->get_creds("raw-s1");
  REQUIRE(read);
  CHECK(read->version == 1);
}

TEST_CASE("per-connection limits refuse oversized and excess requests, "
          "which are not applied",
          "[remote][limits]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start(
    (*redis)->url(),
    {"--remote.max-message-bytes", "1024", "--remote.max-outstanding", "2"});
  REQUIRE(server);
  auto c
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(c);
  auto big = (*c)->set(
    "lim-s1", creds_patch("blob", "\"" + std::string(2000, 'x') + "\""));
  REQUIRE_FALSE(big);
  CHECK(big.error().code == errc::value_too_large);
  CHECK_FALSE(remote_client::may_have_been_applied(big.error()));
  auto gone = (*c)->exists("lim-s1");
  REQUIRE(gone);
  CHECK_FALSE(*gone);
  // Many requests in flight on one connection: beyond two, refused.
  raw_config cfg;
  caf::actor_system sys{cfg};
  auto gate = sys.middleman().remote_actor<auth_gate_actor>("127.0.0.1",
                                                            server->port());
  REQUIRE(gate);
  caf::scoped_actor self{sys};
  auto cn = *make_nonce();
  auto h = hello(self, *gate, remote_protocol_version, cn);
  REQUIRE(h);
  auto session = auth(
    self, *gate, h->first,
    client_proof(remote_test::secret, remote_protocol_version, h->first, cn));
  REQUIRE(session);
  constexpr int burst = 50;
  auto send_one = [&](int i) {
    return self->request(*session, seconds{10}, set_atom::value,
                         std::string{"lim-s2"},
                         creds_patch("n", std::to_string(i)));
  };
  std::vector<decltype(send_one(0))> in_flight;
  for (int i = 0; i < burst; ++i)
    in_flight.push_back(send_one(i));
  int acked = 0;
  int overloaded = 0;
  int other = 0;
  for (auto& r : in_flight)
    r.receive([&](uint64_t) { ++acked; },
              [&](caf::error& e) {
                if (to_failure(e).code == errc::overloaded)
                  ++overloaded;
                else
                  ++other;
              });
  CHECK(acked + overloaded == burst);
  CHECK(other == 0);
  CHECK(acked >= 2);
  CHECK(overloaded >= 1);
  // Exactly the acknowledged writes were applied.
  auto read = (*c)->get_creds("lim-s2");
  REQUIRE(read);
  CHECK(read->version == static_cast<uint64_t>(acked));
}

TEST_CASE("serve refuses to start without a secret; insecure mode is "
          "loopback only",
          "[remote][auth]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto url = (*redis)->url();
  CHECK_FALSE(serve_process::start(url, {}, {}));
  CHECK(serve_process::last_failure().find("no shared secret")
        != std::string::npos);
  CHECK_FALSE(
    serve_process::start(url, {"--insecure-no-auth", "--bind", "0.0.0.0"}, {}));
  CHECK(serve_process::last_failure().find("loopback") != std::string::npos);
  // A secret is never a command-line value.
  CHECK_FALSE(serve_process::start(url, {"--secret", remote_test::secret}, {}));
  CHECK(serve_process::last_failure().find("unknown option --secret")
        != std::string::npos);
  auto insecure = serve_process::start(url, {"--insecure-no-auth"}, {});
  REQUIRE(insecure);
  auto opts = client_options();
  opts.secret.clear();
  auto c = remote_client::connect("127.0.0.1", insecure->port(), opts);
  REQUIRE(c);
  CHECK((*c)->set("insecure-s1", creds_patch("me", "1")));
  // A client that expects a secret does not trust a server without one.
  auto strict
    = remote_client::connect("127.0.0.1", insecure->port(), client_options());
  REQUIRE_FALSE(strict);
  CHECK(strict.error().code == errc::unauthorized);
}

TEST_CASE("a session ends with its client's connection, freeing its place",
          "[remote][limits]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server
    = serve_process::start((*redis)->url(), {"--remote.max-connections", "1"});
  REQUIRE(server);
  auto first
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(first);
  auto second
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE_FALSE(second);
  CHECK(second.error().code == errc::overloaded);
  // Closing the first client closes its connection; the server's session
  // handle sees its peer go down and gives the place back.
  (*first).reset();
  auto start = std::chrono::steady_clock::now();
  outcome<std::unique_ptr<remote_client>> third{errc::internal, "not tried"};
  while (remote_test::elapsed_ms(start) < 5000) {
    third
      = remote_client::connect("127.0.0.1", server->port(), client_options());
    if (third)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  REQUIRE(third);
  CHECK((*third)->set("conn-s1", creds_patch("me", "1")));
}

TEST_CASE("actor-level access keeps many requests in flight on one client's "
          "session",
          "[remote]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  auto server = serve_process::start((*redis)->url());
  REQUIRE(server);
  auto c
    = remote_client::connect("127.0.0.1", server->port(), client_options());
  REQUIRE(c);
  auto session = remote_client_session(**c);
  REQUIRE(session);
  constexpr int n = 100;
  int acked = 0;
  {
    caf::scoped_actor self{remote_client_system(**c)};
    auto send_one = [&](int i) {
      return self->request(session, seconds{10}, set_atom::value,
                           "actor-s" + std::to_string(i % 10),
                           creds_patch("n", std::to_string(i)));
    };
    std::vector<decltype(send_one(0))> in_flight;
    for (int i = 0; i < n; ++i)
      in_flight.push_back(send_one(i));
    for (auto& r : in_flight)
      r.receive([&](uint64_t) { ++acked; }, [](caf::error&) {});
  }
  CHECK(acked == n);
  auto read = (*c)->get_creds("actor-s3");
  REQUIRE(read);
  CHECK(read->version == n / 10);
}

TEST_CASE("during a rotation the server accepts both secrets of a two-line "
          "secret file, and failed handshakes are limited per address",
          "[remote][auth][rotation][rate-limit]") {
  auto redis = private_redis::start();
  REQUIRE(redis);
  std::string path
    = "/tmp/authstore-remote-e2e-two-secrets-" + std::to_string(::getpid());
  {
    std::ofstream out{path};
    out << "new-e2e-secret-0123456789\n" << remote_test::secret << "\n";
  }
  auto server = serve_process::start(
    (*redis)->url(), {"--secret-file", path, "--auth.max-failures", "2"}, {});
  std::remove(path.c_str());
  REQUIRE(server);
  auto with_new = client_options();
  with_new.secret = "new-e2e-secret-0123456789";
  auto a = remote_client::connect("127.0.0.1", server->port(), with_new);
  REQUIRE(a);
  REQUIRE((*a)->set("rot-s1", creds_patch("me", R"({"id":"r"})")));
  auto b = remote_client::connect("127.0.0.1", server->port(),
                                  client_options()); // the previous secret
  REQUIRE(b);
  auto read = (*b)->get_creds("rot-s1");
  REQUIRE(read);
  CHECK(read->creds_json == R"({"me":{"id":"r"}})");
  // Two forged proofs from 127.0.0.1 (a peer guessing: a client with a
  // wrong secret stops at the server's proof and never sends one), then
  // that address is refused unchecked, even with a right secret.
  {
    raw_config cfg;
    caf::actor_system sys{cfg};
    auto gate = sys.middleman().remote_actor<auth_gate_actor>("127.0.0.1",
                                                              server->port());
    REQUIRE(gate);
    caf::scoped_actor self{sys};
    for (int i = 0; i < 2; ++i) {
      auto h = hello(self, *gate, remote_protocol_version, *make_nonce());
      REQUIRE(h);
      auto refused = auth(self, *gate, h->first, std::string(64, '0'));
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == errc::unauthorized);
    }
    auto h = hello(self, *gate, remote_protocol_version, *make_nonce());
    REQUIRE_FALSE(h);
    CHECK(h.error().code == errc::unauthorized);
  }
  auto limited = remote_client::connect("127.0.0.1", server->port(), with_new);
  REQUIRE_FALSE(limited);
  CHECK(limited.error().code == errc::unauthorized);
  CHECK(server->log().find("too many failed handshakes") != std::string::npos);
  CHECK((*a)->exists("rot-s1"));
  CHECK(server->log().find("new-e2e-secret") == std::string::npos);
}

} // namespace remote_auth_e2etest
