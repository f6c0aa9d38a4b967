// The session router: one actor per id, passivation by LRU cap and by idle
// time, and that passivation never drops a queued or in-flight request.
#include "actors/session_router.hpp"

#include <caf/all.hpp>
#include <thread>

#include <catch2/catch.hpp>

#include "tests/actor/fake_redis.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace session_router_actortest {

using namespace authstore;
using namespace authstore::testing;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::map<redis_script, int> counts;
  uint64_t version = 0;
  uint64_t next_write = 1;

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  router_actor spawn(size_t max_live, std::chrono::milliseconds idle,
                     bool hold = false) {
    fake
      = sys->spawn(fake_redis, scripted(&version, &next_write), hold, &counts);
    session_router_config rc;
    rc.redis_pool = {fake};
    rc.session = std::make_shared<session_config>();
    rc.max_live = max_live;
    rc.idle_passivate = idle;
    rc.sweep_interval = std::chrono::milliseconds{10};
    router = spawn_session_router(*sys, rc);
    return router;
  }

  // The router re-arms its sweep timer forever, so it stops only when told
  // (the engine does the same at shutdown).
  ~fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
  }

  router_actor router;

  router_stats stats(const router_actor& r) {
    router_stats result;
    caf::scoped_actor self{*sys};
    self->request(r, std::chrono::seconds{5}, stats_atom::value)
      .receive([&](router_stats& s) { result = s; },
               [&](caf::error&) { FAIL("no stats"); });
    return result;
  }

  redis_actor fake;
};

} // namespace

TEST_CASE_METHOD(fixture, "the router rejects invalid session ids itself",
                 "[router]") {
  auto r = spawn(10, std::chrono::minutes{5});
  caf::scoped_actor self{*sys};
  self
    ->request(r, std::chrono::seconds{5}, get_creds_atom::value,
              std::string{"a{b}"})
    .receive([&](creds_reply&) { FAIL("accepted an invalid id"); },
             [&](caf::error& err) {
               CHECK(to_failure(err).code == errc::invalid_session_id);
             });
  CHECK(stats(r).activations == 0);
  CHECK(counts.empty());
}

TEST_CASE_METHOD(fixture,
                 "over the live cap the least recently used session "
                 "is passivated, and no request is lost",
                 "[router]") {
  // Redis holds every reply, so all 60 writes are in flight while the router
  // passivates 58 of their sessions.
  auto r = spawn(2, std::chrono::minutes{5}, true);
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 60; ++i) {
    patch p;
    p.set_key("pre-key", "1", "V");
    self->send(r, set_atom::value, "s" + std::to_string(i), std::move(p));
  }
  for (int spin = 0; spin < 1000 && counts[redis_script::apply_patch] < 60;
       ++spin)
    std::this_thread::sleep_for(std::chrono::milliseconds{2});
  REQUIRE(counts[redis_script::apply_patch] == 60);
  auto st = stats(r);
  CHECK(st.live_sessions == 2);
  CHECK(st.activations == 60);
  CHECK(st.passivations == 58);
  self->send(fake, flush_atom::value);
  int acked = 0;
  for (int i = 0; i < 60; ++i)
    self->receive([&](uint64_t) { ++acked; },
                  [&](caf::error&) { FAIL("a write was dropped"); },
                  caf::after(std::chrono::seconds{5}) >>
                    [&] { FAIL("timeout"); });
  CHECK(acked == 60);
}

TEST_CASE_METHOD(fixture,
                 "idle sessions are passivated and come back on the "
                 "next request",
                 "[router]") {
  auto r = spawn(100, std::chrono::milliseconds{30});
  caf::scoped_actor self{*sys};
  for (int i = 0; i < 5; ++i)
    self
      ->request(r, std::chrono::seconds{5}, exists_atom::value,
                "idle" + std::to_string(i))
      .receive([](bool) {}, [](caf::error&) { FAIL("exists failed"); });
  CHECK(stats(r).live_sessions == 5);
  router_stats st;
  for (int spin = 0; spin < 200; ++spin) {
    st = stats(r);
    if (st.live_sessions == 0)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  CHECK(st.live_sessions == 0);
  CHECK(st.passivations == 5);
  self
    ->request(r, std::chrono::seconds{5}, exists_atom::value,
              std::string{"idle0"})
    .receive([](bool) {}, [](caf::error&) { FAIL("exists failed"); });
  CHECK(stats(r).activations == 6);
}

TEST_CASE_METHOD(fixture,
                 "batch get answers one result per id, errors "
                 "included",
                 "[router]") {
  auto r = spawn(100, std::chrono::minutes{5});
  caf::scoped_actor self{*sys};
  std::vector<std::string> ids{"b1", "bad id", "b2"};
  self->request(r, std::chrono::seconds{5}, mget_atom::value, ids)
    .receive(
      [&](std::vector<session_result>& rs) {
        REQUIRE(rs.size() == 3);
        CHECK(rs[0].session_id == "b1");
        CHECK(rs[0].error == 0);
        CHECK(rs[1].error == static_cast<uint8_t>(errc::invalid_session_id));
        CHECK(rs[2].error == 0);
      },
      [](caf::error&) { FAIL("batch failed"); });
}

} // namespace session_router_actortest
