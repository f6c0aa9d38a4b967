// canary_redistest.cpp -- secrets never reach logs, metrics or error
// details. Auth state carrying canary values goes through every path this
// build has (set, reads from cache and Redis, delete, the live persist and
// the reconciler's persist, persist failures, version conflicts, rejected
// and malformed input, a quarantined outbox entry), with a Redis password
// and a MongoDB password that are canaries too, at log level debug. Then
// the captured log lines, the /metrics text and every error detail are
// searched: zero occurrences. The HTTP API is a path too (issue #14): the
// bearer secret and a wrong token are canaries, and writes, reads and
// refused requests carrying canaries go through it; its error bodies are
// searched with the other error details.
//
// With encryption at rest (issue #17) the canaries must also be absent from
// what is stored: every Redis key (DUMP, and GET/HGETALL of its values),
// every persist the cold store received (the fake cold store's record; the
// BSON and PostgreSQL encodings store the same text, checked by their own
// tests) -- and the key material itself from logs, metrics and Redis.
#include "tests/redis/outbox_support.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <mutex>
#include <unistd.h>

#include "crypto/key_ring.hpp"
#include "messages/codec.hpp"
#include "messages/patch_json.hpp"
#include "observe/log.hpp"
#include "runtime/http/endpoint.hpp"
#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/http_client.hpp"
#include "tests/redis/crypto_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace canary_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;
using testing::fake_cold_control;
using testing::fake_mode;

namespace {

const std::string creds_canary = "CANARY-CREDS-7f3a9c";
const std::string key_canary = "CANARY-KEY-91bd22";
const std::string redis_canary = "CANARYREDISPASS5d1e";
const std::string mongo_canary = "CANARYMONGOPASS0c4b";
const std::string mark_canary = "CANARY-MARK-e81f";
const std::string api_secret_canary = "CANARYAPISECRET-2b7d90";
const std::string api_token_canary = "CANARYWRONGTOKEN-55e1";
const std::string api_value_canary = "CANARY-APIVALUE-c03e";

struct captured_logs {
  std::mutex mtx;
  std::string text;
  size_t lines = 0;
};

} // namespace

TEST_CASE("canary secrets never appear in logs, metrics or error details",
          "[logs][metrics][secrets]") {
  auto logs = std::make_shared<captured_logs>();
  log::set_sink([logs](std::string_view line) {
    std::lock_guard<std::mutex> guard{logs->mtx};
    logs->text += line;
    ++logs->lines;
  });
  auto redis = start_redis({"--requirepass", redis_canary});
  raw_redis raw{redis->port()};
  REQUIRE(raw.text({"AUTH", redis_canary}) == "OK");
  auto url = "redis://:" + redis_canary
             + "@127.0.0.1:" + std::to_string(redis->port());
  auto ctl = std::make_shared<fake_cold_control>();
  std::string details; // every error detail the API returned
  auto keep = [&](const auto& outcome) {
    if (!outcome)
      details += outcome.error().render() + "\n";
  };
  {
    auto e = start_fake_cold_engine(
      url, ctl,
      {{"log.level", "debug"},
       {"mongodb.uri", "mongodb://authstore:" + mongo_canary
                         + "@127.0.0.1:9/?serverSelectionTimeoutMS=100"}});
    auto sid = unique_sid("canary");
    // set (debug lines), live persist (debug), reads from Redis and cache.
    auto text = R"({"creds":{"me":{"name":")" + creds_canary
                + R"("}},"keys":{"pre-key":{"1":{"private":")" + key_canary
                + R"("}}}})";
    auto p = parse_patch(text, e->limits());
    REQUIRE(p);
    auto v = e->set(sid, *p);
    REQUIRE(v);
    keep(e->get_creds(sid));
    keep(e->get_creds(sid)); // cached
    keep(e->get_keys(sid, "pre-key", {"1"}));
    REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
    // Read-through (debug line): the hot copy gone, as after a TTL expiry,
    // the session is loaded back from the cold store with its canaries.
    raw.command({"DEL", "as:{" + sid + "}:m", "as:{" + sid + "}:c",
                 "as:{" + sid + "}:k"});
    std::this_thread::sleep_for(1100ms); // past the session cache's age
    auto back = e->get_creds(sid);
    REQUIRE(back);
    CHECK(back->creds_json.find(creds_canary) != std::string::npos);
    keep(e->get_keys(sid, "pre-key", {"1"}));
    // Errors: a version conflict, a value too large, malformed JSON, a bad
    // key type -- each carrying a canary.
    auto stale = *p;
    stale.expected_version = 999;
    keep(e->set(sid, stale));
    patch_limits small = e->limits();
    small.value.max_value_bytes = 16;
    keep(parse_patch(text, small));
    keep(parse_patch(R"({"creds":{"me":)" + creds_canary + "}}", e->limits()));
    keep(parse_patch(R"({"creds":{"me":"x"}, ")" + key_canary + R"(":1})",
                     e->limits()));
    keep(parse_patch(R"({"keys":{")" + key_canary + R"(!":{"1":"x"}}})",
                     e->limits()));
    // Persist failures (live path, then the reconciler): warn lines.
    auto sid2 = unique_sid("canary");
    auto sid4 = unique_sid("canary"); // only in the cold store
    {
      std::lock_guard<std::mutex> guard{ctl->mtx};
      ctl->apply({sid4, 3, {{"c:me", false, "\"" + creds_canary + "\""}}});
    }
    make_known(*e, {sid2});
    ctl->mode = fake_mode::fail;
    ctl->fail_code = errc::cold_unavailable;
    REQUIRE(e->set(sid2, *p));
    keep(e->get_creds(sid4)); // a failed read-through: warn line, error
    REQUIRE(wait_until(
      [&] { return engine_counts(*e).outbox.failures[1][30].load() > 0; }, 5s));
    ctl->mode = fake_mode::succeed;
    REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 10s));
    // A quarantined outbox entry whose mark is a canary.
    auto sid3 = unique_sid("canary");
    raw.command({"HSET", "as:{" + sid3 + "}:m", "v", "1"});
    raw.command({"HSET", "as:{" + sid3 + "}:c", "me", creds_canary});
    raw.command({"HSET", "as:{" + sid3 + "}:o", "c:me", mark_canary});
    raw.command({"ZADD", "as:dirty", "1", sid3});
    REQUIRE(wait_until(
      [&] {
        return raw.text({"ZSCORE", "as:quarantine", sid3}) != "<nil>";
      },
      5s));
    keep(e->del(sid));
    REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
    // The HTTP API: a write and reads carrying a canary value, refusals
    // carrying canaries (wrong token, conflict, bad JSON, an unknown member,
    // a bad id), at debug level; every non-2xx body is an error detail.
    {
      auto api_port = free_loopback_port();
      REQUIRE(api_port);
      auto hc = http_front_config::from(e->config(), true);
      hc.api = true;
      hc.api_port = *api_port;
      hc.secret = api_secret_canary;
      auto front = http_front::start(*e, hc);
      REQUIRE(front);
      auto c = http_test::connection::open(*api_port);
      REQUIRE(c);
      auto ok = http_test::bearer(api_secret_canary);
      auto http = [&](const std::string& method, const std::string& target,
                      const std::string& body, const std::string& auth) {
        REQUIRE(c->send(http_test::request(method, target, body, {auth})));
        auto r = c->read();
        REQUIRE(r);
        if (r->status >= 300)
          details += r->body;
        return r->status;
      };
      auto api_sid = unique_sid("canary");
      auto value = R"({"creds":{"me":")" + api_value_canary + R"("}})";
      CHECK(http("POST", "/v1/sessions/" + api_sid + "/write", value, ok)
            == 200);
      CHECK(http("GET", "/v1/sessions/" + api_sid + "/creds", "", ok) == 200);
      CHECK(http("POST", "/v1/sessions/" + api_sid + "/keys/pre-key/read",
                 R"({"ids":[")" + api_value_canary + R"("]})", ok)
            == 200);
      CHECK(http("GET", "/v1/sessions/" + api_sid + "/creds", "",
                 http_test::bearer(api_token_canary))
            == 401);
      CHECK(http("POST", "/v1/sessions/" + api_sid + "/write",
                 R"({"creds":{"me":")" + api_value_canary
                   + R"("},"expected_version":0})",
                 ok)
            == 409);
      CHECK(http("POST", "/v1/sessions/" + api_sid + "/write",
                 R"({"creds":{"me":)" + api_value_canary + "}}", ok)
            == 400);
      CHECK(http("POST", "/v1/sessions/" + api_sid + "/write",
                 R"({")" + api_value_canary + R"(":{}})", ok)
            == 400);
      CHECK(
        http("GET", "/v1/sessions/" + api_value_canary + "%7B/creds", "", ok)
        == 400);
      CHECK(http("DELETE", "/v1/sessions/" + api_sid, "", ok) == 200);
      (*front)->stop(std::chrono::milliseconds{1000});
    }
    auto metrics = e->metrics_text();
    std::lock_guard<std::mutex> guard{logs->mtx};
    INFO("log lines: " << logs->lines);
    // The paths ran and logged (debug set/persist lines, warn failures,
    // the quarantine error), so an empty log cannot pass this test.
    CHECK(logs->text.find("event=set") != std::string::npos);
    CHECK(logs->text.find("event=persisted") != std::string::npos);
    CHECK(logs->text.find("event=persist_failed") != std::string::npos);
    CHECK(logs->text.find("event=quarantine") != std::string::npos);
    CHECK(logs->text.find("event=read_through ") != std::string::npos);
    CHECK(logs->text.find("event=read_through_failed") != std::string::npos);
    CHECK(details.find("version_conflict") != std::string::npos);
    CHECK(details.find("value_too_large") != std::string::npos);
    // The API's refusals are in the details (so an empty body cannot pass),
    // and its requests were counted.
    CHECK(details.find("unauthorized") != std::string::npos);
    CHECK(details.find("bad_json") != std::string::npos);
    CHECK(details.find("invalid_session_id") != std::string::npos);
    CHECK(metrics.find(
            R"(authstore_api_requests_total{route="write",status="409"} 1)")
          != std::string::npos);
    for (const auto& canary :
         {creds_canary, key_canary, redis_canary, mongo_canary, mark_canary,
          api_secret_canary, api_token_canary, api_value_canary}) {
      INFO("canary " << canary);
      CHECK(logs->text.find(canary) == std::string::npos);
      CHECK(metrics.find(canary) == std::string::npos);
      INFO(details);
      CHECK(details.find(canary) == std::string::npos);
    }
  }
  log::set_sink({});
  log::set_level(log::level::info);
}

namespace {

/// Every byte Redis holds: DUMP of each key, and the values of hashes and
/// strings as text (DUMP may compress; the raw values may not).
std::string everything_in(raw_redis& raw) {
  std::string all;
  auto keys = raw.command({"KEYS", "*"});
  REQUIRE(keys->type == REDIS_REPLY_ARRAY);
  for (size_t i = 0; i < keys->elements; ++i) {
    std::string k(keys->element[i]->str, keys->element[i]->len);
    all += k + "\n";
    auto dump = raw.command({"DUMP", k});
    if (dump->type == REDIS_REPLY_STRING)
      all.append(dump->str, dump->len);
    auto type = raw.text({"TYPE", k});
    if (type == "hash") {
      auto h = raw.command({"HGETALL", k});
      for (size_t j = 0; j < h->elements; ++j)
        all.append(h->element[j]->str, h->element[j]->len).append("\n");
    } else if (type == "string") {
      all += raw.text({"GET", k}) + "\n";
    }
  }
  return all;
}

} // namespace

TEST_CASE("with encryption at rest, canaries and key material are absent "
          "from Redis, the cold store, logs and metrics",
          "[logs][metrics][secrets][crypto]") {
  auto logs = std::make_shared<captured_logs>();
  log::set_sink([logs](std::string_view line) {
    std::lock_guard<std::mutex> guard{logs->mtx};
    logs->text += line;
    ++logs->lines;
  });
  // The key: its base64 text and its raw bytes are canaries too.
  key_file keys{{"canarykey"}};
  const auto& key_line = key_file::line("canarykey");
  auto key_b64 = key_line.substr(key_line.find(' ') + 1);
  auto key_raw = base64_decode(key_b64);
  REQUIRE(key_raw);
  const auto& key_path = keys.path;
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  auto url = "redis://127.0.0.1:" + std::to_string(redis->port());
  auto ctl = std::make_shared<fake_cold_control>();
  {
    auto e = start_fake_cold_engine(
      url, ctl, {{"log.level", "debug"}, {"crypto.key-file", key_path}});
    auto sid = unique_sid("canary-enc");
    auto text = R"({"creds":{"me":{"name":")" + creds_canary
                + R"("}},"keys":{"pre-key":{"1":{"private":")" + key_canary
                + R"("}}}})";
    auto p = parse_patch(text, e->limits());
    REQUIRE(p);
    REQUIRE(e->set(sid, *p));
    REQUIRE(e->get_creds(sid));
    REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
    // Read-through: the hot copy gone, the session comes back from the
    // cold store as ciphertext and reads as plaintext.
    raw.command({"DEL", "as:{" + sid + "}:m", "as:{" + sid + "}:c",
                 "as:{" + sid + "}:k"});
    std::this_thread::sleep_for(1100ms);
    auto back = e->get_creds(sid);
    REQUIRE(back);
    CHECK(back->creds_json.find(creds_canary) != std::string::npos);
    auto k = e->get_keys(sid, "pre-key", {"1"});
    REQUIRE(k);
    CHECK(k->values["1"].find(key_canary) != std::string::npos);
    // A second write: the live persist again, after the read-through.
    patch more;
    more.set_creds("registered", R"({"by":")" + creds_canary + R"("})");
    REQUIRE(e->set(sid, more));
    REQUIRE(wait_until([&] { return backlog(raw) == 0; }, 5s));
    auto stored = everything_in(raw);
    auto metrics = e->metrics_text();
    std::string cold;
    size_t cold_values = 0;
    {
      std::lock_guard<std::mutex> guard{ctl->mtx};
      for (const auto& pr : ctl->persists)
        for (const auto& f : pr.fields) {
          cold += f.field + "=" + f.value + "\n";
          if (!f.erase) {
            ++cold_values;
            CHECK(f.value.rfind("~1.canarykey.", 0) == 0);
          }
        }
    }
    // The paths ran: values reached the cold store and Redis, sealed.
    CHECK(cold_values >= 3);
    CHECK(stored.find("~1.canarykey.") != std::string::npos);
    CHECK(metrics.find(R"(authstore_crypto_values_total{result="sealed"} 3)")
          != std::string::npos);
    std::lock_guard<std::mutex> guard{logs->mtx};
    CHECK(logs->text.find("event=encryption_at_rest") != std::string::npos);
    for (const auto& canary : {creds_canary, key_canary, key_b64, *key_raw}) {
      INFO("canary " << canary);
      CHECK(stored.find(canary) == std::string::npos);
      CHECK(cold.find(canary) == std::string::npos);
      CHECK(logs->text.find(canary) == std::string::npos);
      CHECK(metrics.find(canary) == std::string::npos);
    }
  }
  log::set_sink({});
  log::set_level(log::level::info);
}

} // namespace canary_redistest
