// encryption_redistest.cpp -- encryption at rest against a real Redis
// (issue #17): what Redis holds, plaintext written before encryption,
// decrypt failures as errors, and `authstore rekey` under concurrent
// writes with its retire check.
//
// The engine runs in this process; rekey runs as the real executable
// (AUTHSTORE_BINARY), as an operator would run it, so its JSON report is
// what the test reads. Redis is inspected raw (raw_redis), never through
// the code under test.
#include "tests/redis/redis_test_support.hpp"

#include "tests/redis/crypto_test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sys/wait.h>
#include <thread>

#include <map>

#include <nlohmann/json.hpp>

#include "crypto/key_ring.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace encryption_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;

namespace {

/// Runs the authstore executable with `args`; its stdout.
std::string run_cli(const std::string& args, int& rc) {
  const char* bin = std::getenv("AUTHSTORE_BINARY");
  REQUIRE(bin != nullptr);
  std::string cmd = std::string{bin} + " " + args + " 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p))
    out.append(buf, n);
  rc = WEXITSTATUS(::pclose(p));
  return out;
}

nlohmann::json rekey(const private_redis& r, const key_file& keys,
                     const std::string& extra = "") {
  int rc = -1;
  auto out = run_cli("rekey --redis " + r.url() + " --crypto.key-file "
                       + keys.path + " " + extra,
                     rc);
  INFO(out);
  REQUIRE(rc == 0);
  return nlohmann::json::parse(out);
}

} // namespace

TEST_CASE("with a key file, Redis holds only sealed values, and callers get "
          "the plaintext",
          "[crypto][redis]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  auto sid = unique_sid("enc");
  auto p = some_session("alice");
  REQUIRE(e->set(sid, p));
  for (const char* kind : {"c", "k"}) {
    auto all = raw.command({"HGETALL", "as:{" + sid + "}:" + kind});
    REQUIRE(all->elements >= 4);
    for (size_t i = 1; i < all->elements; i += 2) {
      std::string v(all->element[i]->str, all->element[i]->len);
      CHECK(v.rfind("~1.k1.", 0) == 0);
      CHECK(v.find("alice") == std::string::npos);
    }
  }
  std::this_thread::sleep_for(1100ms); // past the cache: read from Redis
  auto creds = e->get_creds(sid);
  REQUIRE(creds);
  // Sealed values are long enough for Redis to keep the hash as a hashtable,
  // whose field order is not insertion order: compare documents, not text.
  CHECK(nlohmann::json::parse(creds->creds_json)
        == nlohmann::json::parse(
          R"({"me":{"id":"alice@s.whatsapp.net"},"registered":true})"));
  auto k = e->get_keys(sid, "pre-key", {"1", "2", "3"});
  REQUIRE(k);
  CHECK(k->values.size() == 2);
  CHECK(k->values["2"] == R"({"private":"alice-2"})");
  auto m = e->metrics_text();
  CHECK(m.find(R"(authstore_crypto_values_total{result="sealed"} 4)")
        != std::string::npos);
  CHECK(m.find(R"(authstore_crypto_values_total{result="opened"} 4)")
        != std::string::npos);
  // The whole-session read (export, dump) hands out plaintext too.
  auto snap = e->read_session(sid);
  REQUIRE(snap);
  REQUIRE(snap->found);
  std::map<std::string, std::string> got;
  for (const auto& w : snap->fields)
    got[w.field] = w.value;
  CHECK(got
        == std::map<std::string, std::string>{
          {"c:me", R"({"id":"alice@s.whatsapp.net"})"},
          {"c:registered", "true"},
          {"k:pre-key/1", R"({"private":"alice-1"})"},
          {"k:pre-key/2", R"({"private":"alice-2"})"}});
}

TEST_CASE("with a key file, a write keeps its conditions: if_absent, the "
          "client lease and the expected version are checked in Redis as "
          "without encryption",
          "[crypto][redis]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  auto sid = unique_sid("enc-cond");
  REQUIRE(e->set(sid, some_session("alice")));
  auto version = [&] {
    return raw.text({"HGET", "as:{" + sid + "}:m", "v"});
  };
  REQUIRE(version() == "1");

  patch absent; // `import` without --replace: only where no session is
  absent.if_absent = true;
  absent.set_creds("registered", "false");
  auto r1 = e->set(sid, absent);
  REQUIRE_FALSE(r1);
  CHECK(r1.error().code == errc::version_conflict);

  patch leased; // a lease nobody holds in Redis: fenced
  leased.lease = {"some-holder", 7};
  leased.set_creds("registered", "false");
  auto r2 = e->set(sid, leased);
  REQUIRE_FALSE(r2);
  CHECK(r2.error().code == errc::fenced);

  patch stale; // an expected version that is not the current one
  stale.expected_version = 5;
  stale.set_creds("registered", "false");
  auto r3 = e->set(sid, stale);
  REQUIRE_FALSE(r3);
  CHECK(r3.error().code == errc::version_conflict);

  // Nothing of the three was applied.
  CHECK(version() == "1");
  std::this_thread::sleep_for(1100ms); // past the cache: read from Redis
  auto creds = e->get_creds(sid);
  REQUIRE(creds);
  CHECK(nlohmann::json::parse(creds->creds_json)["registered"] == true);
}

TEST_CASE("a session written without encryption is read with it, and each "
          "value is sealed on its next write",
          "[crypto][redis][plaintext]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto sid = unique_sid("legacy");
  {
    auto plain = start_engine(redis->url());
    REQUIRE(plain->set(sid, some_session("bob")));
  }
  CHECK(raw.text({"HGET", "as:{" + sid + "}:c", "registered"}) == "true");
  key_file keys{{"k1"}};
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  auto creds = e->get_creds(sid);
  REQUIRE(creds);
  CHECK(creds->creds_json
        == R"({"me":{"id":"bob@s.whatsapp.net"},"registered":true})");
  patch p;
  p.set_creds("registered", "false");
  REQUIRE(e->set(sid, p));
  CHECK(
    raw.text({"HGET", "as:{" + sid + "}:c", "registered"}).rfind("~1.k1.", 0)
    == 0);
  // The field not written stays as it was, and still reads.
  CHECK(raw.text({"HGET", "as:{" + sid + "}:c", "me"})
        == R"({"id":"bob@s.whatsapp.net"})");
  std::this_thread::sleep_for(1100ms);
  auto again = e->get_creds(sid);
  REQUIRE(again);
  CHECK(nlohmann::json::parse(again->creds_json)
        == nlohmann::json::parse(
          R"({"me":{"id":"bob@s.whatsapp.net"},"registered":false})"));
  CHECK(e->metrics_text().find(
          R"(authstore_crypto_values_total{result="plaintext"} 3)")
        != std::string::npos);
}

TEST_CASE("a value moved to another session or key, or sealed with a key the "
          "ring lacks, is decrypt_failed -- never not found, never garbage",
          "[crypto][redis][invariant-4]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  auto sid = unique_sid("src");
  auto other = unique_sid("dst");
  {
    auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
    REQUIRE(e->set(sid, some_session("carol")));
    REQUIRE(e->set(other, some_session("dave")));
    // Copy carol's sealed values over dave's (an attacker with Redis
    // write access, or a restore into the wrong session).
    raw.command({"HSET", "as:{" + other + "}:c", "me",
                 raw.text({"HGET", "as:{" + sid + "}:c", "me"})});
    raw.command({"HSET", "as:{" + sid + "}:k", "pre-key/2",
                 raw.text({"HGET", "as:{" + sid + "}:k", "pre-key/1"})});
  }
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  auto moved = e->get_creds(other);
  REQUIRE_FALSE(moved);
  CHECK(moved.error().code == errc::decrypt_failed);
  auto renamed = e->get_keys(sid, "pre-key", {"1", "2"});
  REQUIRE_FALSE(renamed);
  CHECK(renamed.error().code == errc::decrypt_failed);
  auto fine = e->get_keys(sid, "pre-key", {"1"});
  REQUIRE(fine);
  CHECK(fine->values["1"] == R"({"private":"carol-1"})");
  // A ring without k1 (it was retired too early): every read fails.
  key_file other_keys{{"k9"}};
  auto wrong
    = start_engine(redis->url(), {{"crypto.key-file", other_keys.path}});
  auto lost = wrong->get_creds(sid);
  REQUIRE_FALSE(lost);
  CHECK(lost.error().code == errc::decrypt_failed);
  CHECK_THAT(lost.error().detail, Catch::Contains("'k1'"));
  auto m = e->metrics_text();
  CHECK(m.find(R"(authstore_crypto_values_total{result="decrypt_failed"} 2)")
        != std::string::npos);
}

TEST_CASE("a malformed key file stops the engine from starting",
          "[crypto][redis][config]") {
  auto redis = start_redis();
  char name[] = "/tmp/authstore-badkeys-XXXXXX";
  int fd = ::mkstemp(name);
  REQUIRE(fd >= 0);
  std::string text = "k1 c2hvcnQ=\n";
  REQUIRE(::write(fd, text.data(), text.size()) == ssize_t(text.size()));
  ::close(fd);
  auto e
    = engine::start(test_settings(redis->url(), {{"crypto.key-file", name}}));
  std::remove(name);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == errc::invalid_config);
  CHECK_THAT(e.error().detail, Catch::Contains("line 1"));
  CHECK_THAT(e.error().detail, !Catch::Contains("c2hvcnQ"));
}

TEST_CASE("rekey re-seals every value under concurrent writes: nothing lost, "
          "versions move, and the old key is reported unused",
          "[crypto][redis][rekey]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  constexpr int sessions = 40;
  std::vector<std::string> sids;
  std::map<std::string, uint64_t> first_version;
  {
    auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
    for (int i = 0; i < sessions; ++i) {
      sids.push_back(unique_sid("rekey"));
      auto v = e->set(sids.back(), some_session("s" + std::to_string(i)));
      REQUIRE(v);
      first_version[sids.back()] = *v;
    }
  }
  // Some plaintext too: a session from before encryption.
  auto legacy = unique_sid("rekey-legacy");
  {
    auto plain = start_engine(redis->url());
    REQUIRE(plain->set(legacy, some_session("old")));
  }
  auto before = rekey(*redis, keys, "--dry-run");
  CHECK(before["values_by_key"]["k1"] == sessions * 4);
  CHECK(before["plaintext_values"] == 4);
  CHECK(before["rewritten_values"] == 0);
  // Rotation: k2 active, k1 still readable.
  keys.write({"k2", "k1"});
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  // Written by the writer only, read after join.
  std::map<std::string, int> last_written;
  std::thread writer([&] {
    // A client keeps writing one creds field of the first half of the
    // sessions while rekey runs.
    int round = 0;
    while (!stop) {
      ++round;
      for (int i = 0; i < sessions / 2; ++i) {
        patch p;
        p.set_creds("counter", std::to_string(round));
        if (e->set(sids[i], p))
          last_written[sids[i]] = round;
      }
      rounds = round;
    }
  });
  while (rounds < 1)
    std::this_thread::sleep_for(1ms);
  auto report = rekey(*redis, keys);
  stop = true;
  writer.join();
  CHECK(report["active_key"] == "k2");
  CHECK(report["rewritten_values"].get<int>() > 0);
  // After the writes stopped, a dry run sees only k2.
  auto after = rekey(*redis, keys, "--dry-run");
  INFO(after.dump());
  CHECK(after["plaintext_values"] == 0);
  CHECK(after["unreadable_values"] == 0);
  CHECK(after["values_by_key"].size() == 1);
  CHECK(after["values_by_key"]["k2"].get<int>()
        == (sessions + 1) * 4 + sessions / 2);
  CHECK(after["unused_in_redis"] == nlohmann::json::array({"k1"}));
  // Nothing lost: every value reads back, the writer's last write is there,
  // and every session's version moved.
  std::this_thread::sleep_for(1100ms);
  for (int i = 0; i < sessions; ++i) {
    const auto& sid = sids[i];
    INFO(sid);
    auto c = e->get_creds(sid);
    REQUIRE(c);
    CHECK(c->version > first_version[sid]);
    auto doc = nlohmann::json::parse(c->creds_json);
    CHECK(doc["me"]["id"] == "s" + std::to_string(i) + "@s.whatsapp.net");
    if (i < sessions / 2) {
      REQUIRE(last_written.count(sid));
      CHECK(doc["counter"] == last_written[sid]);
    }
    auto k = e->get_keys(sid, "pre-key", {"1", "2"});
    REQUIRE(k);
    CHECK(k->values["1"] == R"({"private":"s)" + std::to_string(i) + R"(-1"})");
  }
  // k1 is retired: a ring of k2 alone still opens every value.
  keys.write({"k2"});
  auto retired = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  for (const auto& sid : sids) {
    INFO(sid);
    CHECK(retired->get_creds(sid));
  }
  CHECK(retired->get_creds(legacy));
}

} // namespace encryption_redistest
