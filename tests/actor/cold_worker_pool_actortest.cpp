// The cold worker pool (actors/cold_worker_pool.hpp) in front of scripted
// workers: each session always reaches the same worker and in order,
// different sessions run in parallel, worker_init reports the first worker
// that failed, a worker's death takes the pool down, and stopping the pool
// stops every worker.
//
// These run on CAF's real scheduler: the workers here are event-based
// fakes, but the pool must meet the supervisor's request timeouts with
// real threads; every call is a blocking request with a bound.
#include "actors/cold_worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_worker_pool_actortest {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

/// What reached which fake worker, shared with the test.
struct log_book {
  std::mutex mtx;
  /// Per worker index, the (session, version) pairs in arrival order.
  std::map<size_t, std::vector<std::pair<std::string, uint64_t>>> calls;
  /// Workers still running.
  std::atomic<int> alive{0};
  /// Index of the worker whose worker_init fails (-1: none).
  std::atomic<int> failing_init{-1};
  /// Handles of the workers made, by index.
  std::vector<cold_worker_actor> workers;
};

struct fake_state {
  static inline const char* name = "authstore.test.fake_pool_worker";
};

cold_worker_actor::behavior_type
fake_worker(cold_worker_actor::stateful_pointer<fake_state> self,
            std::shared_ptr<log_book> book, size_t index) {
  ++book->alive;
  self->attach_functor([book] { --book->alive; });
  return {
    [=](persist_atom, const persist_request& req) -> uint64_t {
      std::lock_guard<std::mutex> guard{book->mtx};
      book->calls[index].emplace_back(req.session_id, req.version);
      return req.version;
    },
    [=](load_atom, const std::string& sid) -> session_snapshot {
      std::lock_guard<std::mutex> guard{book->mtx};
      book->calls[index].emplace_back(sid, 0);
      return session_snapshot{true, index + 1, {}};
    },
    [=](worker_init_atom) -> std::tuple<bool, std::string> {
      if (book->failing_init == static_cast<int>(index))
        return {false, "prepare: refused (scripted)"};
      return {true, ""};
    },
  };
}

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<log_book> book = std::make_shared<log_book>();
  cold_worker_actor pool;

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~fixture() {
    if (pool)
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    pool = nullptr;
    {
      std::lock_guard<std::mutex> guard{book->mtx};
      book->workers.clear();
    }
    sys.reset();
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  void start(size_t n) {
    auto b = book;
    auto next = std::make_shared<size_t>(0);
    cold_worker_factory make = [b, next](caf::actor_system& s) {
      auto w = s.spawn(fake_worker, b, (*next)++);
      std::lock_guard<std::mutex> guard{b->mtx};
      b->workers.push_back(w);
      return w;
    };
    cold_worker_pool_config pc;
    pc.workers = n;
    pc.init_timeout = 2s;
    pool = spawn_cold_worker_pool(*sys, make, pc);
  }

  template <class T, class... Ts>
  outcome<T> call(Ts&&... xs) {
    outcome<T> result{errc::internal, "no reply"};
    caf::scoped_actor self{*sys};
    self->request(pool, 5s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = to_failure(err); });
    return result;
  }

  std::tuple<bool, std::string> init() {
    std::tuple<bool, std::string> result{false, "no reply"};
    caf::scoped_actor self{*sys};
    self->request(pool, 5s, worker_init_atom::value)
      .receive(
        [&](bool ok, std::string& why) {
          result = {ok, why};
        },
        [&](caf::error& err) {
          result = {false, to_failure(err).render()};
        });
    return result;
  }
};

} // namespace

TEST_CASE_METHOD(fixture,
                 "every call of a session reaches one worker, in the order "
                 "sent, and sessions spread over all workers",
                 "[cold-worker-pool]") {
  start(4);
  REQUIRE(
    authstore::test::wait_until([&] { return book->alive == 4; }, 5s, 2ms));
  std::vector<std::string> sids;
  for (int i = 0; i < 64; ++i)
    sids.push_back("s" + std::to_string(i));
  {
    // Many in flight at once: arrival order at the pool is send order.
    caf::scoped_actor self{*sys};
    for (uint64_t v = 1; v <= 5; ++v)
      for (const auto& sid : sids)
        self->send(pool, persist_atom::value, persist_request{sid, v, {}});
  }
  auto all_in = [&] {
    std::lock_guard<std::mutex> guard{book->mtx};
    size_t n = 0;
    for (auto& [i, xs] : book->calls)
      n += xs.size();
    return n == sids.size() * 5;
  };
  REQUIRE(authstore::test::wait_until(all_in, 5s, 2ms));
  std::lock_guard<std::mutex> guard{book->mtx};
  CHECK(book->calls.size() == 4); // 64 sessions hash onto every worker
  std::map<std::string, size_t> owner;
  for (auto& [i, xs] : book->calls) {
    std::map<std::string, uint64_t> last;
    for (auto& [sid, v] : xs) {
      auto [it, fresh] = owner.emplace(sid, i);
      CHECK(it->second == i);    // one worker per session
      CHECK(v == last[sid] + 1); // in the order sent
      last[sid] = v;
    }
  }
  CHECK(owner.size() == sids.size());
}

TEST_CASE_METHOD(fixture,
                 "the worker answers the caller directly through the pool",
                 "[cold-worker-pool]") {
  start(3);
  auto v = call<uint64_t>(persist_atom::value, persist_request{"a", 7, {}});
  REQUIRE(v);
  CHECK(*v == 7);
  auto snap = call<session_snapshot>(load_atom::value, std::string{"a"});
  REQUIRE(snap);
  CHECK(snap->found);
  // The load went to the worker the persist went to (version = index + 1).
  std::lock_guard<std::mutex> guard{book->mtx};
  for (auto& [i, xs] : book->calls)
    if (!xs.empty()) {
      CHECK(snap->version == i + 1);
      CHECK(xs.size() == 2);
    }
}

TEST_CASE_METHOD(fixture,
                 "worker_init succeeds only when every worker prepared its "
                 "store, and names the first that did not",
                 "[cold-worker-pool]") {
  start(4);
  CHECK(init() == std::tuple<bool, std::string>{true, ""});
  book->failing_init = 2;
  auto [ok, why] = init();
  CHECK_FALSE(ok);
  CHECK(why == "cold worker 2: prepare: refused (scripted)");
}

TEST_CASE_METHOD(fixture,
                 "a worker that dies takes the pool and the other workers "
                 "down; stopping the pool stops every worker",
                 "[cold-worker-pool]") {
  start(3);
  REQUIRE(
    authstore::test::wait_until([&] { return book->alive == 3; }, 5s, 2ms));
  {
    caf::scoped_actor probe{*sys};
    probe->monitor(pool);
    cold_worker_actor victim;
    {
      std::lock_guard<std::mutex> guard{book->mtx};
      victim = book->workers[1];
    }
    caf::anon_send_exit(victim, caf::exit_reason::kill);
    bool down = false;
    probe->receive([&](caf::down_msg&) { down = true; },
                   caf::after(5s) >> [] {});
    CHECK(down);
  }
  CHECK(authstore::test::wait_until([&] { return book->alive == 0; }, 5s, 2ms));
  pool = nullptr;
  // A fresh pool, stopped from outside: every worker ends with it.
  start(3);
  REQUIRE(
    authstore::test::wait_until([&] { return book->alive == 3; }, 5s, 2ms));
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  pool = nullptr;
  CHECK(authstore::test::wait_until([&] { return book->alive == 0; }, 5s, 2ms));
}

} // namespace cold_worker_pool_actortest
