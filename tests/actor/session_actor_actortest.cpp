// The session actor's protocol, message by message, against a fake Redis
// actor that counts requests, answers from a script, or holds replies.
#include "actors/session_actor.hpp"

#include <caf/all.hpp>
#include <functional>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include "actors/cold_supervisor.hpp"
#include "messages/cold_gate.hpp"
#include "redis/layout.hpp"
#include "tests/actor/fake_cold_worker.hpp"
#include "tests/actor/fake_redis.hpp"
#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace session_actor_actortest {

using namespace authstore;
using namespace authstore::testing;
using namespace std::chrono_literals;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::map<redis_script, int> counts;
  uint64_t version = 5;
  uint64_t next_write = 6;
  std::shared_ptr<session_config> scfg = std::make_shared<session_config>();

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
    scfg->cache_max_age = std::chrono::hours{1};
  }

  session_actor spawn(bool hold = false, answer_fn answer = nullptr) {
    auto redis = sys->spawn(fake_redis,
                            answer ? answer : scripted(&version, &next_write),
                            hold, &counts);
    fake = redis;
    session = spawn_session_actor(*sys, "s1", redis, scfg);
    return session;
  }

  // A request's pending timeout message keeps its sender alive until the
  // timeout would fire (CAF 0.17), so the actors are stopped explicitly.
  ~fixture() {
    caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
  }

  redis_actor fake;
  session_actor session;
};

template <class T, class... Ts>
outcome<T> call(caf::actor_system& sys, const session_actor& s, Ts&&... xs) {
  outcome<T> result{errc::internal, "no reply"};
  caf::scoped_actor self{sys};
  self->request(s, std::chrono::seconds{5}, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = to_failure(err); });
  return result;
}

} // namespace

TEST_CASE_METHOD(fixture, "a cached creds read does not leave the process",
                 "[session-actor]") {
  auto s = spawn();
  auto a = call<creds_reply>(*sys, s, get_creds_atom::value);
  auto b = call<creds_reply>(*sys, s, get_creds_atom::value);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->creds_json == R"({"a":1})");
  CHECK(*a == *b);
  CHECK(counts[redis_script::read_creds] == 1);
}

TEST_CASE_METHOD(fixture,
                 "our own write keeps the key cache, with the new "
                 "value",
                 "[session-actor]") {
  auto s = spawn();
  auto ids = std::vector<std::string>{"1", "2"};
  REQUIRE(call<keys_reply>(*sys, s, get_keys_atom::value,
                           std::string{"pre-key"}, ids));
  patch p;
  p.set_key("pre-key", "1", "NEW");
  auto v = call<uint64_t>(*sys, s, set_atom::value, p);
  REQUIRE(v);
  CHECK(*v == 6);
  auto again = call<keys_reply>(*sys, s, get_keys_atom::value,
                                std::string{"pre-key"}, ids);
  REQUIRE(again);
  CHECK(again->values == std::map<std::string, std::string>{{"1", "NEW"}});
  CHECK(again->version == 6);
  CHECK(counts[redis_script::read_keys] == 1);
}

TEST_CASE_METHOD(fixture,
                 "a write acknowledged at an unexpected version "
                 "drops the cache",
                 "[session-actor][invariant-2]") {
  auto s = spawn();
  auto ids = std::vector<std::string>{"1"};
  REQUIRE(call<keys_reply>(*sys, s, get_keys_atom::value,
                           std::string{"pre-key"}, ids));
  next_write = 9; // another process wrote versions 6..8 meanwhile
  patch p;
  p.set_creds("x", "1");
  REQUIRE(call<uint64_t>(*sys, s, set_atom::value, p));
  REQUIRE(call<keys_reply>(*sys, s, get_keys_atom::value,
                           std::string{"pre-key"}, ids));
  CHECK(counts[redis_script::read_keys] == 2);
}

TEST_CASE_METHOD(fixture,
                 "a Redis failure reaches the caller as an error, "
                 "never as not found",
                 "[session-actor][invariant-4]") {
  auto s = spawn(false, [](const redis_request&) -> outcome<redis_reply> {
    return failure{errc::hot_unavailable, "connection refused"};
  });
  auto r = call<creds_reply>(*sys, s, get_creds_atom::value);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::hot_unavailable);
  auto e = call<bool>(*sys, s, exists_atom::value);
  REQUIRE_FALSE(e);
  CHECK(e.error().code == errc::hot_unavailable);
}

TEST_CASE_METHOD(fixture,
                 "an invalid patch is refused without sending "
                 "anything",
                 "[session-actor]") {
  scfg->limits.value.max_value_bytes = 4;
  auto s = spawn();
  patch p;
  p.set_key("pre-key", "1", "12345");
  auto r = call<uint64_t>(*sys, s, set_atom::value, p);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::value_too_large);
  patch q;
  q.writes.push_back({"bogus", false, "1"});
  CHECK(call<uint64_t>(*sys, s, set_atom::value, q).error().code
        == errc::invalid_argument);
  CHECK(counts[redis_script::apply_patch] == 0);
}

TEST_CASE_METHOD(fixture,
                 "passivation answers everything queued and in "
                 "flight before the actor stops",
                 "[session-actor]") {
  auto s = spawn(true);
  caf::scoped_actor self{*sys};
  self->monitor(s);
  for (int i = 0; i < 3; ++i) {
    patch p;
    p.set_key("pre-key", std::to_string(i), "V");
    self->send(s, set_atom::value, std::move(p));
  }
  self->send(s, passivate_atom::value);
  // Wait until the fake Redis holds all three writes, then release them.
  for (int spin = 0; spin < 500 && counts[redis_script::apply_patch] < 3;
       ++spin)
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  REQUIRE(counts[redis_script::apply_patch] == 3);
  self->send(fake, flush_atom::value);
  std::vector<uint64_t> versions;
  bool down = false;
  for (int i = 0; i < 4; ++i)
    self->receive([&](uint64_t v) { versions.push_back(v); },
                  [&](caf::down_msg&) { down = true; },
                  [&](caf::error&) { FAIL("a queued write failed"); },
                  caf::after(std::chrono::seconds{5}) >>
                    [&] { FAIL("timeout"); });
  CHECK(versions == std::vector<uint64_t>{6, 7, 8});
  CHECK(down);
}

namespace {

/// A Redis that keeps one session's outbox as the Lua scripts do: every
/// acknowledged write leaves a mark at its version, read_dirty returns the
/// marks with their values, clear_dirty(V) drops the marks <= V. Shared
/// with the test thread, hence the mutex.
struct outbox_redis {
  std::mutex mtx;
  uint64_t version = 0;
  std::map<std::string, std::pair<uint64_t, std::string>> marks;
  int read_dirty = 0;

  answer_fn answer() {
    return [this](const redis_request& req) -> outcome<redis_reply> {
      std::lock_guard<std::mutex> guard{mtx};
      switch (req.script) {
        case redis_script::apply_patch: {
          ++version;
          auto id = std::to_string(version);
          marks["k:pre-key/" + id] = {version, "V" + id};
          return array({id});
        }
        case redis_script::read_dirty: {
          ++read_dirty;
          std::vector<std::string> items{std::to_string(version)};
          for (auto& [field, m] : marks) {
            items.push_back(field);
            items.push_back(std::to_string(m.first));
            items.push_back(m.second);
          }
          return array(items);
        }
        case redis_script::clear_dirty: {
          auto upto = std::stoull(req.args[req.num_keys]);
          uint64_t cleared = 0;
          for (auto i = marks.begin(); i != marks.end();)
            if (i->second.first <= upto) {
              i = marks.erase(i);
              ++cleared;
            } else {
              ++i;
            }
          return array({std::to_string(cleared), std::to_string(marks.size())});
        }
        default:
          return failure{errc::hot_error, "unexpected script in test"};
      }
    };
  }

  size_t dirty() {
    std::lock_guard<std::mutex> guard{mtx};
    return marks.size();
  }
  int reads() {
    std::lock_guard<std::mutex> guard{mtx};
    return read_dirty;
  }
};

} // namespace

TEST_CASE("issue #15 - while the cold store's breaker is open a write sends "
          "no read_dirty; once it lets calls through again the backlog "
          "drains into the cold store",
          "[session-actor][invariant-1][invariant-5]") {
  caf::actor_system_config cfg;
  register_messages(cfg);
  cfg.set("scheduler.max-threads", size_t{2});
  // What the actors point to outlives the actor system (declared before
  // it): they still publish to the gate and count while it shuts down.
  auto ctl = std::make_shared<fake_cold_control>();
  cold_gate gate;
  outbox_redis hot;
  std::map<redis_script, int> unused;
  outbox_counters outbox;
  caf::actor_system sys{cfg};
  cold_supervisor_config ccfg;
  ccfg.call_timeout = 500ms;
  ccfg.breaker.consecutive_failures = 1;
  ccfg.breaker.open_base = 2s; // longer than the writes below take
  ccfg.breaker.jitter_percent = 0;
  ccfg.breaker.half_open_probes = 1;
  ccfg.make_worker = fake_cold_factory(ctl);
  ccfg.backend = "fakedb";
  ccfg.gate = &gate;
  auto cold = spawn_cold_supervisor(sys, ccfg);
  REQUIRE(test::wait_until([&] { return ctl->inits.load() >= 1; }, 3s, 2ms));
  auto redis = sys.spawn(fake_redis, hot.answer(), false, &unused);
  auto scfg = std::make_shared<session_config>();
  scfg->cold = cold;
  scfg->gate = &gate;
  scfg->outbox = &outbox;
  // No backoff of its own: only the gate can keep the session from reading.
  scfg->persist_retry = backoff_policy{1ms, 1ms, 1};
  auto session = spawn_session_actor(sys, "s1", redis, scfg);
  auto write = [&] {
    patch p;
    p.set_key("pre-key", "x", "V");
    REQUIRE(call<uint64_t>(sys, session, set_atom::value, p));
  };
  auto live = static_cast<size_t>(persist_path::live);

  // The cold store fails: the first write's round trips the breaker.
  ctl->mode = fake_mode::fail;
  write();
  REQUIRE(test::wait_until(
    [&] { return gate.refuses(cold_gate::clock::now()); }, 3s, 2ms));
  REQUIRE(test::wait_until(
    [&] { return outbox.failures[live][errc_slot(errc::cold_error)] == 1; }, 3s,
    2ms));
  CHECK(hot.reads() == 1);
  CHECK(ctl->calls == 1);

  // Open: three more acknowledged writes, and not one dirty-set read.
  for (int i = 0; i < 3; ++i) {
    std::this_thread::sleep_for(5ms); // past the session's own 1 ms backoff
    write();
  }
  REQUIRE(
    test::wait_until([&] { return outbox.breaker_open[live] >= 3; }, 3s, 2ms));
  CHECK(hot.reads() == 1);
  CHECK(ctl->calls == 1);
  CHECK(hot.dirty() == 4); // every acknowledged write's mark is kept
  CHECK(outbox.persists[live] == 0);

  // The cold store is back and the probe is due: the next write persists
  // the whole backlog in one round, and its marks are cleared.
  ctl->mode = fake_mode::succeed;
  REQUIRE(test::wait_until(
    [&] { return !gate.refuses(cold_gate::clock::now()); }, 5s, 5ms));
  write();
  REQUIRE(test::wait_until([&] { return hot.dirty() == 0; }, 3s, 2ms));
  CHECK(hot.reads() == 2);
  CHECK(outbox.persists[live] == 1);
  {
    std::lock_guard<std::mutex> guard{ctl->mtx};
    auto& stored = ctl->store["s1"];
    CHECK(stored.version == 5);
    CHECK(stored.fields.size() == 5); // writes 1-5: none was lost
  }
  CHECK(gate.admits(cold_gate::clock::now()) == cold_gate::unlimited);
  caf::anon_send_exit(session, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(redis, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(cold, caf::exit_reason::user_shutdown);
  std::lock_guard<std::mutex> guard{ctl->mtx};
  ctl->latest = nullptr;
}

TEST_CASE_METHOD(fixture,
                 "issue #19 - under ownership a read never answers from the "
                 "cache while one of the actor's writes is unanswered",
                 "[session-actor][issue-19][linearizability]") {
  // Why: Redis may have applied the write already and a reader on another
  // node (reading Redis) may have seen it; the cache answering the older
  // version afterwards was a stale read (cluster_e2etest under load).
  auto own = std::make_shared<ownership_config>();
  own->node_id = "n1";
  own->process_token = "t1";
  scfg->ownership = own;
  auto base = scripted(&version, &next_write);
  auto s
    = spawn(true, [base](const redis_request& req) -> outcome<redis_reply> {
        if (req.script == redis_script::own) // a take: epoch 1 for 3 s
          return array({"1", "3000", "0"});
        return base(req);
      });
  caf::scoped_actor self{*sys};
  auto wait_for = [&](redis_script x, int n) {
    return test::wait_until([&] { return counts[x] >= n; }, 2s, 2ms)
           && counts[x] == n;
  };
  auto creds_version = [&] {
    uint64_t v = 0;
    self->receive([&](creds_reply& r) { v = r.version; },
                  [&](caf::error&) { FAIL("the read failed"); },
                  caf::after(std::chrono::seconds{5}) >>
                    [&] { FAIL("no reply"); });
    return v;
  };
  // The first read takes the lease and reads Redis (both held, then
  // answered): the cache holds version 5 under a valid lease.
  self->send(s, get_creds_atom::value);
  REQUIRE(wait_for(redis_script::read_creds, 1));
  self->send(fake, flush_atom::value);
  CHECK(creds_version() == 5);
  // The lease is valid: the next read is a cache hit, nothing sent.
  self->send(s, get_creds_atom::value);
  CHECK(creds_version() == 5);
  CHECK(counts[redis_script::read_creds] == 1);
  // A write is sent and held unanswered; a read meanwhile goes to Redis,
  // behind the write.
  patch p;
  p.set_creds("a", "2");
  self->send(s, set_atom::value, std::move(p));
  REQUIRE(wait_for(redis_script::apply_patch, 1));
  self->send(s, get_creds_atom::value);
  CHECK(wait_for(redis_script::read_creds, 2));
  self->send(fake, flush_atom::value);
  uint64_t written = 0;
  uint64_t read = 0;
  for (int i = 0; i < 2; ++i)
    self->receive([&](uint64_t v) { written = v; },
                  [&](creds_reply& r) { read = r.version; },
                  [&](caf::error&) { FAIL("an operation failed"); },
                  caf::after(std::chrono::seconds{5}) >>
                    [&] { FAIL("no reply"); });
  CHECK(written == 6);
  CHECK(read == 6);
  // Answered: the cache serves again, at the write's version.
  self->send(s, get_creds_atom::value);
  CHECK(creds_version() == 6);
  CHECK(counts[redis_script::read_creds] == 2);
}

} // namespace session_actor_actortest
