// redis_faults_redistest.cpp -- the hot path when Redis misbehaves: paused
// (SIGSTOP), killed, restarted, full (noeviction), password-protected, or
// reached over a unix socket.
//
// What it shows: a hot-store outage gives fast errors with a stable token
// (hot_unavailable or timeout) within the configured bounds, never a hang
// and never "not found" (invariants 4 and 5); service resumes by itself
// when Redis returns; a refused write (OOM) applies nothing; a wrong
// password fails clearly without echoing the password.
//
// How: every test starts its own redis-server, so pausing or killing it
// touches nobody else. Bounds are configured small (command 300 ms, request
// 1000 ms) and each failing call is timed. Waiting for recovery polls with a
// deadline instead of sleeping a fixed time.
#include "runtime/engine/engine.hpp"

#include <thread>
#include <unistd.h>

#include "messages/codec.hpp"
#include "tests/polling.hpp"
#include "tests/redis/redis_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace redis_faults_redistest {

using namespace authstore;
using namespace authstore::test;

namespace {

/// Command bound, request bound: small, so a hung Redis fails fast.
constexpr int64_t command_timeout_ms = 300;
constexpr int64_t request_timeout_ms = 1000;

/// A failing call must answer within twice the request bound.
constexpr int64_t failure_bound_ms = 2 * request_timeout_ms;

/// Reconnect backoff is capped at 2 s (+25 % jitter): recovery must come
/// well within this.
constexpr milliseconds recovery_deadline{5000};

std::map<std::string, std::string> fault_settings() {
  return {{"redis.command-timeout-ms", std::to_string(command_timeout_ms)},
          {"redis.connect-timeout-ms", std::to_string(command_timeout_ms)},
          {"session.request-timeout-ms", std::to_string(request_timeout_ms)},
          // Every read goes to Redis, so no cached answer hides the outage.
          {"session.cache-max-age-ms", "0"}};
}

/// Runs `call` and checks it fails with hot_unavailable or timeout within
/// failure_bound_ms. Returns the time it took.
template <class F>
int64_t expect_fast_hot_failure(const std::string& what, F call) {
  auto start = std_clock::now();
  auto r = call();
  auto took = ms_since(start);
  INFO(what << " answered " << describe(r) << " after " << took << " ms");
  CHECK_FALSE(r); // for get_creds: never a found=false answer
  auto token = token_of(r);
  CHECK((token == "hot_unavailable" || token == "timeout"));
  CHECK(took < failure_bound_ms);
  return took;
}

/// Every session operation, each expected to fail fast while Redis is out.
/// `written` exists in Redis, `never` was never written; writes go to
/// `scratch` only, since a failed write may still be applied later.
void expect_all_fail(engine& e, const std::string& written,
                     const std::string& never, const std::string& scratch) {
  expect_fast_hot_failure("get_creds(written)",
                          [&] { return e.get_creds(written); });
  expect_fast_hot_failure("get_creds(never written)",
                          [&] { return e.get_creds(never); });
  expect_fast_hot_failure(
    "get_keys(written)", [&] { return e.get_keys(written, "pre-key", {"1"}); });
  expect_fast_hot_failure("get_keys(never written)",
                          [&] { return e.get_keys(never, "pre-key", {"1"}); });
  expect_fast_hot_failure("exists(written)", [&] { return e.exists(written); });
  expect_fast_hot_failure("exists(never written)",
                          [&] { return e.exists(never); });
  expect_fast_hot_failure("touch(never written)",
                          [&] { return e.touch(never); });
  expect_fast_hot_failure("set(scratch)", [&] {
    return e.set_json(scratch, R"({"creds":{"registered":true}})");
  });
}

/// Polls `call` until it succeeds or the deadline passes; returns the last
/// outcome and how long it took.
template <class F>
auto poll_until_ok(F call, int64_t& took_ms) {
  auto start = std_clock::now();
  auto r = call();
  while (!r && std_clock::now() - start < recovery_deadline) {
    std::this_thread::sleep_for(milliseconds{20});
    r = call();
  }
  took_ms = ms_since(start);
  return r;
}

} // namespace

TEST_CASE("a paused, then killed Redis gives fast errors and never 'not "
          "found', and service resumes by itself when Redis returns",
          "[invariant-4][invariant-5]") {
  auto redis = start_redis();
  auto e = start_engine(redis->url(), fault_settings());
  auto written = unique_sid("fault-written");
  auto never = unique_sid("fault-never");
  auto scratch = unique_sid("fault-scratch");
  REQUIRE(e->set_json(written, R"({"creds":{"registered":true},
                                   "keys":{"pre-key":{"1":"p1"}}})"));
  REQUIRE(e->get_creds(written));

  SECTION("paused (SIGSTOP), then resumed") {
    redis->pause();
    // Long enough to see the first timeout, the fail-fast backoff and at
    // least one reconnect attempt against the stopped server.
    auto start = std_clock::now();
    int rounds = 0;
    while (rounds < 2 || ms_since(start) < 2500) {
      expect_all_fail(*e, written, never, scratch);
      ++rounds;
    }
    redis->resume();
    // Each pool connection recovers on its own reconnect schedule, and the
    // two sessions may use different ones: poll each.
    int64_t took = 0;
    auto c = poll_until_ok([&] { return e->get_creds(written); }, took);
    INFO("get_creds(written) recovered after " << took
                                               << " ms: " << describe(c));
    REQUIRE(c);
    CHECK(c->found);
    CHECK(c->version == 1);
    auto n = poll_until_ok([&] { return e->get_creds(never); }, took);
    INFO("get_creds(never) recovered after " << took << " ms: " << describe(n));
    REQUIRE(n);
    CHECK_FALSE(n->found);
  }

  SECTION("killed (SIGKILL), then restarted empty") {
    redis->kill();
    auto start = std_clock::now();
    int rounds = 0;
    while (rounds < 2 || ms_since(start) < 1000) {
      expect_all_fail(*e, written, never, scratch);
      ++rounds;
    }
    REQUIRE(redis->restart());
    auto fresh = unique_sid("fault-fresh");
    int64_t took = 0;
    auto v = poll_until_ok(
      [&] { return e->set_json(fresh, R"({"creds":{"me":{"id":"1@s"}}})"); },
      took);
    INFO("recovered after " << took << " ms: " << describe(v));
    REQUIRE(v);
    CHECK(*v == 1);
    auto c = e->get_creds(fresh);
    REQUIRE(c);
    CHECK(c->found);
    CHECK(json::parse(c->creds_json)["me"]["id"] == "1@s");
    // No persistence and no cold store: the old session is really gone,
    // and that is a successful read of nothing. (It may live on the other
    // pool connection, which recovers on its own schedule.)
    auto old = poll_until_ok([&] { return e->get_creds(written); }, took);
    INFO("get_creds(written) after restart: " << describe(old));
    REQUIRE(old);
    CHECK_FALSE(old->found);
  }
}

TEST_CASE("a read after a write whose outcome is unknown agrees with Redis",
          "[invariant-5]") {
  // A write that timed out may still be applied once Redis resumes; the
  // session's cache must not keep answering the value from before it.
  auto redis = start_redis();
  auto cfg = fault_settings();
  cfg["session.cache-max-age-ms"] = "10000";
  auto e = start_engine(redis->url(), cfg);
  auto sid = unique_sid("unknown-write");
  REQUIRE(e->set_json(sid, R"({"keys":{"pre-key":{"1":"old"}}})"));
  auto before = e->get_keys(sid, "pre-key", {"1"});
  REQUIRE(before);
  CHECK(before->values["1"] == R"("old")");
  redis->pause();
  auto w = e->set_json(sid, R"({"keys":{"pre-key":{"1":"new"}}})");
  CHECK_FALSE(w);
  redis->resume();
  raw_redis raw{redis->port()};
  auto field
    = std::vector<std::string>{"HGET", "as:{" + sid + "}:k", "pre-key/1"};
  // Redis runs what was already in its socket when it resumes; give it a
  // moment to do so (it is normally at once).
  auto stored = raw.text(field);
  auto start = std_clock::now();
  while (stored == R"("old")" && ms_since(start) < 500) {
    std::this_thread::sleep_for(milliseconds{10});
    stored = raw.text(field);
  }
  // Until the connection's reconnect backoff elapses, reads fail with
  // hot_unavailable (an error, never the stale value); the first read that
  // succeeds must agree with Redis.
  auto after = e->get_keys(sid, "pre-key", {"1"});
  start = std_clock::now();
  while (!after && ms_since(start) < 3000) {
    CHECK(after.error().code == errc::hot_unavailable);
    std::this_thread::sleep_for(milliseconds{10});
    after = e->get_keys(sid, "pre-key", {"1"});
  }
  INFO("Redis holds " << stored);
  REQUIRE(after);
  CHECK(after->values["1"] == stored);
}

TEST_CASE("a redis URL with the right password works") {
  auto redis = start_redis({"--requirepass", "s3cret-pw"});
  auto port = std::to_string(redis->port());
  for (std::string url : {"redis://:s3cret-pw@127.0.0.1:" + port + "/0",
                          "redis://default:s3cret-pw@127.0.0.1:" + port}) {
    INFO(url);
    auto e = start_engine(url, fault_settings());
    auto sid = unique_sid("auth");
    auto v = e->set_json(sid, R"({"creds":{"registered":true}})");
    INFO(describe(v));
    REQUIRE(v);
    auto c = e->get_creds(sid);
    REQUIRE(c);
    CHECK(c->found);
  }
}

TEST_CASE("a wrong or missing password is hot_unavailable, and the error "
          "does not contain the password",
          "[invariant-4]") {
  auto redis = start_redis({"--requirepass", "s3cret-pw"});
  auto port = std::to_string(redis->port());
  for (std::string url : {"redis://:Wr0ng-Pa55@127.0.0.1:" + port + "/0",
                          "redis://auser:Wr0ng-Pa55@127.0.0.1:" + port,
                          "redis://127.0.0.1:" + port}) {
    INFO(url);
    auto e = start_engine(url, fault_settings());
    auto sid = unique_sid("auth-bad");
    auto v = e->set_json(sid, R"({"creds":{"registered":true}})");
    INFO(describe(v));
    REQUIRE_FALSE(v);
    CHECK(token_of(v) == "hot_unavailable");
    CHECK(v.error().detail.find("Wr0ng-Pa55") == std::string::npos);
    CHECK(v.error().detail.find("s3cret-pw") == std::string::npos);
    auto c = e->get_creds(sid);
    INFO(describe(c));
    CHECK(token_of(c) == "hot_unavailable"); // never found=false
    if (!c)
      CHECK(c.error().detail.find("Wr0ng-Pa55") == std::string::npos);
  }
}

TEST_CASE("a Redis Cluster node is refused with a clear error, never "
          "'not found'",
          "[invariant-4]") {
  // One node in cluster mode, no slots assigned: without the check at
  // connect every call would fail with CLUSTERDOWN, or with MOVED and
  // CROSSSLOT on a real cluster.
  // The bus port is named: by default it is the port + 10000, and Redis
  // exits at start for a port above 55535 -- after it has begun listening,
  // so the start looked fine and every call then met a closed port (about
  // one run in five, with ports drawn from 32768-60999).
  auto bus = free_loopback_port();
  REQUIRE(bus);
  auto redis = start_redis(
    {"--cluster-enabled", "yes", "--cluster-port", std::to_string(*bus)});
  // private_redis counts a completed TCP handshake as "up", but a server in
  // cluster mode listens a while (its node setup) before it answers; under
  // load that outlasted the engine's short INFO timeout here. Wait for a
  // PING answer (raw_redis waits up to 2 s) so the test sees the refusal.
  raw_redis raw{redis->port()};
  REQUIRE(raw.text({"PING"}) == "PONG");
  auto e = start_engine(redis->url(), fault_settings());
  auto sid = unique_sid("cluster");
  auto v = e->set_json(sid, R"({"creds":{"registered":true}})");
  INFO(describe(v));
  REQUIRE_FALSE(v);
  CHECK(token_of(v) == "invalid_config");
  CHECK(v.error().detail.find("cluster mode") != std::string::npos);
  auto c = e->get_creds(sid);
  INFO(describe(c));
  CHECK(token_of(c) == "invalid_config");
}

TEST_CASE("a unix socket URL works") {
  // redis-server runs in its own directory, so the relative socket path
  // lands there and is removed with it.
  auto redis
    = start_redis({"--unixsocket", "redis.sock", "--unixsocketperm", "700"});
  auto sock = redis->dir() + "/redis.sock";
  // start_redis waits for the TCP port; the socket file may appear a moment
  // later (a CI run connected before it existed).
  REQUIRE(test::wait_until([&] { return ::access(sock.c_str(), F_OK) == 0; },
                           std::chrono::milliseconds{5000}));
  auto sid = unique_sid("unix");
  {
    auto e = start_engine("unix://" + sock, fault_settings());
    auto v = e->set_json(sid, R"({"keys":{"pre-key":{"1":"p1"}}})");
    INFO(describe(v));
    REQUIRE(v);
    auto k = e->get_keys(sid, "pre-key", {"1"});
    REQUIRE(k);
    CHECK(k->values["1"] == R"("p1")");
  }
  {
    auto e = start_engine("unix://" + sock + "?db=2", fault_settings());
    REQUIRE(e->set_json(sid, R"({"keys":{"pre-key":{"2":"p2"}}})"));
  }
  // Same server over TCP: db 0 has the first write, db 2 the second.
  raw_redis raw{redis->port()};
  auto k = "as:{" + sid + "}:k";
  CHECK(raw.text({"HGET", k, "pre-key/1"}) == R"("p1")");
  CHECK(raw.integer({"HEXISTS", k, "pre-key/2"}) == 0);
  CHECK(raw.text({"SELECT", "2"}) == "OK");
  CHECK(raw.text({"HGET", k, "pre-key/2"}) == R"("p2")");
}

namespace {

constexpr int oom_keys_per_patch = 10;
constexpr size_t oom_value_bytes = 4000;

/// One patch of `keys` keys of `value_bytes` each, ids "<n>-<i>".
patch oom_patch(int n, int keys = oom_keys_per_patch,
                size_t value_bytes = oom_value_bytes) {
  patch p;
  std::string value = json(std::string(value_bytes, 'v')).dump();
  for (int i = 0; i < keys; ++i)
    p.set_key("pre-key", std::to_string(n) + "-" + std::to_string(i), value);
  return p;
}

/// Writes patches made by `make(n)` to `sid`, from version `first` on,
/// until one is refused; returns the number of acknowledged patches (the
/// session's version) and the refusal.
template <class Make>
std::pair<int, outcome<uint64_t>> fill_until_refused(engine& e,
                                                     const std::string& sid,
                                                     Make make, int first = 0) {
  // 2 MB of maxmemory holds well under 100 patches of 40 KB, or 2000 of
  // 1 KB.
  for (int n = first; n < first + 4000; ++n) {
    auto v = e.set(sid, make(n));
    if (!v)
      return {n, v};
    REQUIRE(*v == static_cast<uint64_t>(n + 1));
  }
  FAIL("Redis never refused a write under maxmemory 2mb");
  return {0, outcome<uint64_t>{0}};
}

} // namespace

TEST_CASE("a write refused for lack of memory is hot_out_of_memory and "
          "applies nothing") {
  auto redis
    = start_redis({"--maxmemory", "2mb", "--maxmemory-policy", "noeviction"});
  auto e = start_engine(redis->url(), fault_settings());
  auto sid = unique_sid("oom");
  auto [acked, refused]
    = fill_until_refused(*e, sid, [](int n) { return oom_patch(n); });
  INFO("refused after " << acked << " patches: " << describe(refused));
  CHECK(acked > 0);
  CHECK(token_of(refused) == "hot_out_of_memory");
  raw_redis raw{redis->port()};
  auto k = "as:{" + sid + "}:k";
  CHECK(raw.text({"HGET", "as:{" + sid + "}:m", "v"}) == std::to_string(acked));
  CHECK(raw.integer({"HLEN", k}) == acked * oom_keys_per_patch);
  for (int i = 0; i < oom_keys_per_patch; ++i)
    CHECK(raw.integer(
            {"HEXISTS", k,
             "pre-key/" + std::to_string(acked) + "-" + std::to_string(i)})
          == 0);
  // Reads still work on a full Redis.
  auto r = e->get_keys(sid, "pre-key", {"0-0", std::to_string(acked) + "-0"});
  INFO(describe(r));
  REQUIRE(r);
  CHECK(r->version == static_cast<uint64_t>(acked));
  CHECK(r->values.size() == 1);
  CHECK(r->values.count("0-0") == 1);
}

TEST_CASE("a session can be deleted to free memory when Redis is full") {
  // Under noeviction the only way to make room is deleting data; a delete
  // refused with OOM leaves a full store stuck.
  auto redis
    = start_redis({"--maxmemory", "2mb", "--maxmemory-policy", "noeviction"});
  auto e = start_engine(redis->url(), fault_settings());
  auto sid = unique_sid("oom-del");
  // Big patches first, then small ones, until even a small write is
  // refused: Redis is then over maxmemory by itself, not just because of
  // the refused command's own arguments.
  auto [big, refused]
    = fill_until_refused(*e, sid, [](int n) { return oom_patch(n); });
  REQUIRE(token_of(refused) == "hot_out_of_memory");
  auto [acked, small_refused] = fill_until_refused(
    *e, sid, [](int n) { return oom_patch(n, 1, 100); }, big);
  REQUIRE(token_of(small_refused) == "hot_out_of_memory");
  raw_redis raw{redis->port()};
  INFO("used_memory " << raw.info_field("memory", "used_memory") << " after "
                      << acked << " patches");
  auto d = e->del(sid);
  INFO("del on a full Redis: " << describe(d));
  REQUIRE(d);
  CHECK(*d);
  auto v = e->set(sid, oom_patch(acked));
  INFO("write after the delete: " << describe(v));
  REQUIRE(v);
  CHECK(*v == static_cast<uint64_t>(acked + 2)); // the delete was acked + 1
}

} // namespace redis_faults_redistest
