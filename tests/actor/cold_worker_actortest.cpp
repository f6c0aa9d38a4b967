// The generic cold worker (actors/cold_worker.hpp) around a scripted,
// CAF-free cold_store: the opener and every call on the worker's own thread,
// answers and errors passed through as they are, an exception turned into
// errc::internal for that call only, and a store that could not be opened.
//
// These run on CAF's real scheduler: the worker is detached (its own
// thread), which the deterministic test coordinator does not model. Every
// call is a blocking request with a bound; nothing sleeps.
#include "actors/cold_worker.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include "tests/polling.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_worker_actortest {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

/// What the scripted store does and what reached it; shared with the test.
struct script {
  std::mutex mtx;
  /// Threads the opener, each call and the destructor ran on (guarded).
  std::vector<std::thread::id> threads;
  /// Persists received, in order (guarded).
  std::vector<uint64_t> versions;
  std::atomic<int> opens{0};
  std::atomic<bool> destroyed{false};
  /// The next persist fails with this code (0: succeeds).
  std::atomic<int> fail_with{0};
  /// The next call throws.
  std::atomic<bool> throw_next{false};
  /// prepare's answer.
  std::atomic<bool> prepare_ok{true};

  void seen() {
    std::lock_guard<std::mutex> guard{mtx};
    threads.push_back(std::this_thread::get_id());
  }
};

class scripted_store final : public cold_store {
public:
  explicit scripted_store(std::shared_ptr<script> s) : s_(std::move(s)) {}

  ~scripted_store() override {
    s_->seen();
    s_->destroyed = true;
  }

  std::string_view backend() const override { return "scripted"; }

  outcome<bool> prepare() override {
    s_->seen();
    maybe_throw();
    if (!s_->prepare_ok)
      return failure{errc::cold_error, "prepare: refused (scripted)"};
    return true;
  }

  outcome<uint64_t> persist(const persist_request& req) override {
    s_->seen();
    maybe_throw();
    {
      std::lock_guard<std::mutex> guard{s_->mtx};
      s_->versions.push_back(req.version);
    }
    if (int code = s_->fail_with.exchange(0); code != 0)
      return failure{static_cast<errc>(code), "persist: scripted failure"};
    return req.version;
  }

  outcome<session_snapshot> load(const std::string& sid) override {
    s_->seen();
    maybe_throw();
    if (sid == "absent")
      return session_snapshot{};
    return session_snapshot{true, 4, {{"c:me", false, "1"}}};
  }

private:
  void maybe_throw() {
    if (s_->throw_next.exchange(false))
      throw std::runtime_error("secret value c:me in the message");
  }

  std::shared_ptr<script> s_;
};

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::shared_ptr<script> s = std::make_shared<script>();
  cold_worker_actor worker;

  fixture() {
    register_messages(cfg);
    cfg.set("scheduler.max-threads", size_t{2});
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  ~fixture() {
    stop();
    sys.reset();
  }

  fixture(const fixture&) = delete;
  fixture& operator=(const fixture&) = delete;

  /// A worker whose opener creates a scripted store.
  void start() {
    auto shared = s;
    start_with([shared]() -> outcome<std::unique_ptr<cold_store>> {
      shared->seen();
      ++shared->opens;
      return std::unique_ptr<cold_store>{new scripted_store(shared)};
    });
  }

  void start_with(cold_store_opener open) {
    worker = spawn_cold_worker(*sys, std::move(open));
  }

  void stop() {
    if (worker)
      caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
    worker = nullptr;
  }

  template <class T, class... Ts>
  outcome<T> call(Ts&&... xs) {
    outcome<T> result{errc::internal, "no reply"};
    caf::scoped_actor self{*sys};
    self->request(worker, 5s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = to_failure(err); });
    return result;
  }

  outcome<uint64_t> persist(uint64_t version) {
    return call<uint64_t>(
      persist_atom::value,
      persist_request{"s1", version, {{"c:me", false, "1"}}});
  }

  outcome<session_snapshot> load(const std::string& sid) {
    return call<session_snapshot>(load_atom::value, sid);
  }

  /// worker_init's reply, or (false, "no reply").
  std::tuple<bool, std::string> init() {
    std::tuple<bool, std::string> result{false, "no reply"};
    caf::scoped_actor self{*sys};
    self->request(worker, 5s, worker_init_atom::value)
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
                 "the store is opened, used and destroyed on the worker's "
                 "own thread",
                 "[cold-worker]") {
  start();
  CHECK(std::get<0>(init()));
  REQUIRE(persist(3));
  REQUIRE(load("s1"));
  stop();
  REQUIRE(
    authstore::test::wait_until([&] { return s->destroyed.load(); }, 5s, 2ms));
  std::lock_guard<std::mutex> guard{s->mtx};
  // Opener, prepare, persist, load, destructor.
  REQUIRE(s->threads.size() == 5);
  for (auto id : s->threads)
    CHECK(id == s->threads[0]);
  CHECK(s->threads[0] != std::this_thread::get_id());
  CHECK(s->opens == 1);
}

TEST_CASE_METHOD(fixture,
                 "calls reach the store in arrival order and its answers "
                 "reach the caller as they are",
                 "[cold-worker][invariant-4]") {
  start();
  CHECK(init() == std::make_tuple(true, std::string{}));
  // Sent without waiting: one thread, one queue, arrival order.
  {
    caf::scoped_actor self{*sys};
    for (uint64_t v = 1; v <= 20; ++v)
      self->send(worker, persist_atom::value,
                 persist_request{"s1", v, {{"c:me", false, "1"}}});
  }
  auto last = persist(21);
  REQUIRE(last);
  CHECK(*last == 21);
  {
    std::lock_guard<std::mutex> guard{s->mtx};
    std::vector<uint64_t> expected;
    for (uint64_t v = 1; v <= 21; ++v)
      expected.push_back(v);
    CHECK(s->versions == expected);
  }
  auto found = load("s1");
  REQUIRE(found);
  CHECK(*found == session_snapshot{true, 4, {{"c:me", false, "1"}}});
  auto absent = load("absent");
  REQUIRE(absent);
  CHECK_FALSE(absent->found);
  // A store failure is that failure, never "not found".
  s->fail_with = static_cast<int>(errc::cold_unavailable);
  auto failed = persist(22);
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == errc::cold_unavailable);
  CHECK(failed.error().detail == "persist: scripted failure");
  s->prepare_ok = false;
  CHECK(init()
        == std::make_tuple(false, std::string{"cold_error: prepare: refused "
                                              "(scripted)"}));
  CHECK(s->opens == 1);
}

TEST_CASE_METHOD(fixture,
                 "an exception inside the store fails that call only, as "
                 "internal, and names no data",
                 "[cold-worker]") {
  start();
  s->throw_next = true;
  auto thrown = persist(1);
  REQUIRE_FALSE(thrown);
  CHECK(thrown.error().code == errc::internal);
  CHECK(thrown.error().detail
        == "persist: unexpected exception in the cold worker (scripted)");
  s->throw_next = true;
  auto thrown_load = load("s1");
  REQUIRE_FALSE(thrown_load);
  CHECK(thrown_load.error().code == errc::internal);
  CHECK(thrown_load.error().detail.find("c:me") == std::string::npos);
  s->throw_next = true;
  auto [ok, why] = init();
  CHECK_FALSE(ok);
  CHECK(why == "prepare: unexpected exception in the cold worker (scripted)");
  // The worker is still there and the store is the same one.
  auto next = persist(2);
  REQUIRE(next);
  CHECK(*next == 2);
  CHECK(s->opens == 1);
}

TEST_CASE_METHOD(fixture,
                 "a store that could not be opened is every call's answer, "
                 "and the opener runs once",
                 "[cold-worker][invariant-4]") {
  std::atomic<int> opens{0};
  failure expected;
  SECTION("the opener fails") {
    start_with([&opens]() -> outcome<std::unique_ptr<cold_store>> {
      ++opens;
      return failure{errc::invalid_config, "scripted: bad uri"};
    });
    expected = {errc::invalid_config, "scripted: bad uri"};
  }
  SECTION("the opener throws") {
    start_with([&opens]() -> outcome<std::unique_ptr<cold_store>> {
      ++opens;
      throw std::runtime_error("mongodb://user:secret@host");
    });
    expected = {errc::internal, "open: unexpected exception in the cold "
                                "worker"};
  }
  SECTION("the opener returns no store") {
    start_with([&opens]() -> outcome<std::unique_ptr<cold_store>> {
      ++opens;
      return std::unique_ptr<cold_store>{};
    });
    expected = {errc::internal, "open: the opener returned no store"};
  }
  auto [ok, why] = init();
  CHECK_FALSE(ok);
  CHECK(why == expected.render());
  auto p = persist(1);
  REQUIRE_FALSE(p);
  CHECK(p.error().code == expected.code);
  CHECK(p.error().detail == expected.detail);
  auto l = load("s1");
  REQUIRE_FALSE(l);
  CHECK(l.error().code == expected.code);
  CHECK(opens == 1);
  // The worker stops before `opens` (captured by reference) goes.
  stop();
  sys.reset();
}

} // namespace cold_worker_actortest
