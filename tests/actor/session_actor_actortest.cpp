// The session actor's protocol, message by message, against a fake Redis
// actor that counts requests, answers from a script, or holds replies.
#include "actors/session_actor.hpp"

#include <caf/all.hpp>
#include <functional>
#include <map>
#include <thread>

#include <catch2/catch.hpp>

#include "redis/layout.hpp"
#include "tests/actor/fake_redis.hpp"

using namespace authstore;
using namespace authstore::testing;

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
