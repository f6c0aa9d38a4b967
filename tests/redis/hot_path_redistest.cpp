// hot_path_redistest.cpp -- the hot path (engine -> router -> session actor
// -> redis actor -> Lua) against a real, private redis-server.
//
// What it shows: concurrent writers to one session, in one process and in
// two, lose no update and get versions 1..N exactly once (invariant 2); the
// `set` semantics (null deletes, untouched ids and creds fields stay, creds
// merge shallowly, expected-version conditions, versions monotonic across a
// delete); TTLs; the v7 Buffer form on the way out; batch calls with a bad
// id; and that invalid requests never reach Redis.
//
// How: every test starts its own redis-server (no persistence, loopback,
// removed afterwards) and inspects what was stored with a raw hiredis
// connection, independently of the code under test. The two-process test
// forks before any actor system exists in this process and is declared
// first, because Catch2 runs test cases in declaration order by default.
#include "runtime/engine/engine_actors.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <set>
#include <sys/wait.h>
#include <thread>

#include <caf/all.hpp>

#include "messages/codec.hpp"
#include "tests/redis/redis_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace hot_path_redistest {

using namespace authstore;
using namespace authstore::test;

namespace {

/// True when `versions` is exactly 1..n, each once.
bool is_one_to_n(std::vector<uint64_t> versions, uint64_t n) {
  if (versions.size() != n)
    return false;
  std::sort(versions.begin(), versions.end());
  for (uint64_t i = 0; i < n; ++i)
    if (versions[i] != i + 1)
      return false;
  return true;
}

/// The JSON value a writer stores under key `id` (distinct per key, so a
/// read-back also proves the right value landed under the right id).
std::string value_for(const std::string& id) {
  return json(id).dump();
}

// -- two processes ----------------------------------------------------------

constexpr int child_threads = 4;
constexpr int child_writes = 2000;

/// Body of one forked writer process: its own engine (actor system, Redis
/// pool) against `url`; waits on `barrier_fd` so both children write at
/// once; writes child_writes distinct keys and sends the versions it got
/// back through `out_fd`. Returns the exit code (0: every write acked). No
/// Catch2 here: only the parent reports.
int child_writer(const std::string& url, const std::string& sid,
                 const std::string& tag, int barrier_fd, int out_fd) {
  auto cfg = settings::load({{"redis.url", url}});
  if (!cfg)
    return 2;
  auto e = engine::start(*cfg);
  if (!e)
    return 3;
  char byte;
  while (::read(barrier_fd, &byte, 1) > 0) {
  } // EOF: the parent released both children
  std::vector<std::vector<uint64_t>> versions(child_threads);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < child_threads; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < child_writes; i += child_threads) {
        auto id = tag + "-" + std::to_string(i);
        patch p;
        p.set_key("pre-key", id, value_for(id));
        if (auto v = (*e)->set(sid, std::move(p)); v)
          versions[t].push_back(*v);
        else
          ++failures;
      }
    });
  for (auto& t : threads)
    t.join();
  e->reset();
  for (const auto& vs : versions) {
    auto bytes = vs.size() * sizeof(uint64_t);
    if (::write(out_fd, vs.data(), bytes) != static_cast<ssize_t>(bytes))
      return 4;
  }
  return failures == 0 ? 0 : 1;
}

} // namespace

TEST_CASE("two processes writing one session at once lose no update",
          "[invariant-2]") {
  auto redis = start_redis();
  auto sid = unique_sid("two-procs");
  int barrier[2];
  REQUIRE(::pipe(barrier) == 0);
  struct child {
    pid_t pid;
    int out;
    std::string tag;
  };
  std::vector<child> children;
  for (std::string tag : {"a", "b"}) {
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(barrier[1]);
      ::close(out[0]);
      ::_exit(child_writer(redis->url(), sid, tag, barrier[0], out[1]));
    }
    ::close(out[1]);
    children.push_back({pid, out[0], tag});
  }
  ::close(barrier[0]);
  ::close(barrier[1]); // releases both children at once
  std::vector<std::vector<uint64_t>> acked;
  for (auto& c : children) {
    // 16 KB of versions fit in a pipe buffer: reading after exit is safe.
    int status = 0;
    REQUIRE(::waitpid(c.pid, &status, 0) == c.pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::vector<uint64_t> vs(child_writes + 1);
    auto n = ::read(c.out, vs.data(), vs.size() * sizeof(uint64_t));
    ::close(c.out);
    REQUIRE(n >= 0);
    vs.resize(static_cast<size_t>(n) / sizeof(uint64_t));
    CHECK(vs.size() == child_writes);
    acked.push_back(std::move(vs));
  }
  auto all = acked[0];
  all.insert(all.end(), acked[1].begin(), acked[1].end());
  CHECK(is_one_to_n(all, 2 * child_writes));
  // The test only means something if the writers really interleaved.
  REQUIRE_FALSE(acked[0].empty());
  REQUIRE_FALSE(acked[1].empty());
  auto [a_min, a_max] = std::minmax_element(acked[0].begin(), acked[0].end());
  auto [b_min, b_max] = std::minmax_element(acked[1].begin(), acked[1].end());
  CHECK((*a_min < *b_max && *b_min < *a_max));
  // What Redis holds, read without the engine: every key, and the version.
  raw_redis raw{redis->port()};
  auto keys = "as:{" + sid + "}:k";
  CHECK(raw.integer({"HLEN", keys}) == 2 * child_writes);
  CHECK(raw.text({"HGET", "as:{" + sid + "}:m", "v"})
        == std::to_string(2 * child_writes));
  for (auto& c : children)
    for (int i = 0; i < child_writes; ++i) {
      auto id = c.tag + "-" + std::to_string(i);
      auto stored = raw.text({"HGET", keys, "pre-key/" + id});
      if (stored != value_for(id))
        FAIL("key pre-key/" << id << " holds " << stored);
    }
}

// -- one process, sixteen writer actors --------------------------------------

namespace {

/// What all writers report, guarded by one mutex.
struct writers_log {
  std::mutex mx;
  std::condition_variable cv;
  int finished = 0;
  std::vector<uint64_t> versions;
  std::vector<std::string> errors;
};

struct writer_job {
  router_actor router;
  std::string sid;
  int writer = 0;
  int count = 0;
  /// Requests this writer keeps in flight.
  int window = 0;
  std::shared_ptr<writers_log> log;
};

struct writer_progress {
  int next = 0;
  int in_flight = 0;
  std::vector<uint64_t> versions;
  std::vector<std::string> errors;
};

std::string writer_key(int writer, int i) {
  return "w" + std::to_string(writer) + "-" + std::to_string(i);
}

/// Keeps `job.window` patches in flight until `job.count` are answered,
/// then reports to the log and quits.
void pump(caf::event_based_actor* self, std::shared_ptr<writer_progress> st,
          std::shared_ptr<const writer_job> job) {
  while (st->in_flight < job->window && st->next < job->count) {
    auto id = writer_key(job->writer, st->next++);
    ++st->in_flight;
    patch p;
    p.set_key("pre-key", id, value_for(id));
    self
      ->request(job->router, std::chrono::seconds{20}, set_atom::value,
                job->sid, std::move(p))
      .then(
        [=](uint64_t v) {
          st->versions.push_back(v);
          --st->in_flight;
          pump(self, st, job);
        },
        [=](caf::error& err) {
          st->errors.push_back(to_failure(err).render());
          --st->in_flight;
          pump(self, st, job);
        });
  }
  if (st->in_flight == 0 && st->next == job->count) {
    auto& log = *job->log;
    {
      std::lock_guard<std::mutex> guard{log.mx};
      log.versions.insert(log.versions.end(), st->versions.begin(),
                          st->versions.end());
      log.errors.insert(log.errors.end(), st->errors.begin(), st->errors.end());
      ++log.finished;
    }
    log.cv.notify_all();
    self->quit();
  }
}

} // namespace

TEST_CASE("sixteen writer actors patching one session lose no update and "
          "get versions 1..16000 exactly once",
          "[invariant-2]") {
  constexpr int writers = 16;
  constexpr int per_writer = 1000;
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("sixteen");
  auto log = std::make_shared<writers_log>();
  auto& sys = engine_system(*e);
  for (int w = 0; w < writers; ++w) {
    auto job = std::make_shared<writer_job>(
      writer_job{engine_router(*e), sid, w, per_writer, 4, log});
    sys.spawn([job](caf::event_based_actor* self) -> caf::behavior {
      pump(self, std::make_shared<writer_progress>(), job);
      // A behavior keeps the actor alive between replies; it quits itself.
      return {[](int) {
      }};
    });
  }
  {
    std::unique_lock<std::mutex> guard{log->mx};
    REQUIRE(log->cv.wait_for(guard, std::chrono::seconds{40},
                             [&] { return log->finished == writers; }));
  }
  INFO("first error: " << (log->errors.empty() ? "-" : log->errors[0]));
  CHECK(log->errors.empty());
  CHECK(is_one_to_n(log->versions, writers * per_writer));
  // Read everything back through the engine, one writer's keys per call.
  uint64_t last_version = 0;
  size_t found = 0;
  for (int w = 0; w < writers; ++w) {
    std::vector<std::string> ids;
    for (int i = 0; i < per_writer; ++i)
      ids.push_back(writer_key(w, i));
    auto r = e->get_keys(sid, "pre-key", ids);
    REQUIRE(r);
    last_version = r->version;
    for (const auto& id : ids) {
      auto i = r->values.find(id);
      if (i == r->values.end())
        FAIL("key pre-key/" << id << " is missing");
      if (i->second != value_for(id))
        FAIL("key pre-key/" << id << " holds " << i->second);
      ++found;
    }
  }
  CHECK(found == writers * per_writer);
  CHECK(last_version == writers * per_writer);
  raw_redis raw{redis->port()};
  CHECK(raw.integer({"HLEN", "as:{" + sid + "}:k"}) == writers * per_writer);
}

// -- set semantics ------------------------------------------------------------

TEST_CASE("null deletes a key, and a patch naming two ids of a type leaves "
          "the type's other ids untouched") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("merge");
  REQUIRE(e->set_json(sid, R"({"keys":{
      "app-state-sync-key":{"A":{"k":"a1"},"B":{"k":"b1"},"C":{"k":"c1"}},
      "pre-key":{"1":"p1","2":"p2"}}})"));
  // The seed's bug: saving A and deleting B replaced the whole type map.
  auto v = e->set_json(sid, R"({"keys":{
      "app-state-sync-key":{"A":{"k":"a2"},"B":null}}})");
  REQUIRE(v);
  CHECK(*v == 2);
  auto r = e->get_keys(sid, "app-state-sync-key", {"A", "B", "C"});
  REQUIRE(r);
  CHECK(r->version == 2);
  CHECK(r->values.size() == 2);
  CHECK(r->values["A"] == R"({"k":"a2"})");
  CHECK(r->values.count("B") == 0);
  CHECK(r->values["C"] == R"({"k":"c1"})");
  auto other = e->get_keys(sid, "pre-key", {"1", "2"});
  REQUIRE(other);
  CHECK(other->values.size() == 2);
  // What Redis holds, without the engine's cache.
  raw_redis raw{redis->port()};
  auto k = "as:{" + sid + "}:k";
  CHECK(raw.integer({"HEXISTS", k, "app-state-sync-key/B"}) == 0);
  CHECK(raw.text({"HGET", k, "app-state-sync-key/C"}) == R"({"k":"c1"})");
  CHECK(raw.integer({"HLEN", k}) == 4);
}

TEST_CASE("creds merge shallowly: fields not named stay and null removes "
          "a field") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("creds");
  REQUIRE(e->set_json(sid, R"({"creds":{"me":{"id":"1@s","name":"x"},
      "registered":false,"platform":"android","advSecretKey":"c2VjcmV0"}})"));
  REQUIRE(e->set_json(sid, R"({"creds":{"me":{"id":"1@s"},
      "registered":true,"advSecretKey":null}})"));
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK(c->found);
  CHECK(c->version == 2);
  auto doc = json::parse(c->creds_json);
  CHECK(doc.size() == 3);
  CHECK(doc["platform"] == "android");
  CHECK(doc["registered"] == true);
  CHECK(doc.count("advSecretKey") == 0);
  // Shallow: a named top-level field is replaced whole, not deep-merged.
  CHECK(doc["me"] == json::parse(R"({"id":"1@s"})"));
}

TEST_CASE("get_creds reports the session's current version after a "
          "key-only write",
          "[invariant-2]") {
  // A read-modify-write of creds (Baileys' saveCreds with an optimistic
  // lock) takes the expected version from get_creds.
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("creds-version");
  REQUIRE(e->set_json(sid, R"({"creds":{"registered":false}})"));
  auto first = e->get_creds(sid);
  REQUIRE(first);
  CHECK(first->version == 1);
  auto v = e->set_json(sid, R"({"keys":{"pre-key":{"1":"p1"}}})");
  REQUIRE(v);
  CHECK(*v == 2);
  auto second = e->get_creds(sid);
  REQUIRE(second);
  CHECK(second->version == 2);
  patch p;
  p.set_creds("registered", "true");
  p.expected_version = second->version;
  auto w = e->set(sid, std::move(p));
  INFO("conditional creds write: " << describe(w));
  CHECK(w);
}

TEST_CASE("an expected-version mismatch is a version_conflict and applies "
          "nothing",
          "[invariant-2]") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("cas");
  patch create;
  create.set_key("pre-key", "1", "\"p1\"");
  create.expected_version = 0; // only if the session does not exist yet
  REQUIRE(e->set(sid, create));
  auto again = e->set(sid, create);
  CHECK(token_of(again) == "version_conflict");
  patch p;
  p.set_key("pre-key", "2", "\"p2\"");
  p.set_creds("registered", "true");
  p.erase_key("pre-key", "1");
  p.expected_version = 7;
  auto bad = e->set(sid, p);
  CHECK(token_of(bad) == "version_conflict");
  raw_redis raw{redis->port()};
  CHECK(raw.text({"HGET", "as:{" + sid + "}:m", "v"}) == "1");
  CHECK(raw.integer({"HLEN", "as:{" + sid + "}:k"}) == 1);
  CHECK(raw.integer({"EXISTS", "as:{" + sid + "}:c"}) == 0);
  auto r = e->get_keys(sid, "pre-key", {"1", "2"});
  REQUIRE(r);
  CHECK(r->version == 1);
  CHECK(r->values.size() == 1);
  CHECK(r->values.count("1") == 1);
  p.expected_version = 1;
  auto good = e->set(sid, p);
  REQUIRE(good);
  CHECK(*good == 2);
  r = e->get_keys(sid, "pre-key", {"1", "2"});
  REQUIRE(r);
  CHECK(r->values.size() == 1);
  CHECK(r->values.count("2") == 1);
}

TEST_CASE("a deleted and re-created session keeps versions increasing",
          "[invariant-2]") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("recreate");
  for (int i = 1; i <= 3; ++i)
    REQUIRE(e->set_json(sid, R"({"creds":{"registered":true},
                                 "keys":{"pre-key":{"1":"p1"}}})"));
  auto d = e->del(sid);
  REQUIRE(d);
  CHECK(*d);
  auto ex = e->exists(sid);
  REQUIRE(ex);
  CHECK_FALSE(*ex);
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK_FALSE(c->found);
  auto k = e->get_keys(sid, "pre-key", {"1"});
  REQUIRE(k);
  CHECK(k->values.empty());
  auto again = e->del(sid);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto v = e->set_json(sid, R"({"keys":{"pre-key":{"2":"p2"}}})");
  REQUIRE(v);
  CHECK(*v == 5); // the delete was version 4 (deleting nothing: no version)
  k = e->get_keys(sid, "pre-key", {"1", "2"});
  REQUIRE(k);
  CHECK(k->values.size() == 1);
  CHECK(k->values.count("2") == 1);
  ex = e->exists(sid);
  REQUIRE(ex);
  CHECK(*ex);
}

TEST_CASE("a missing session: exists and touch answer false, get_creds "
          "answers found=false, none of them an error",
          "[invariant-4]") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("missing");
  auto ex = e->exists(sid);
  REQUIRE(ex);
  CHECK_FALSE(*ex);
  auto t = e->touch(sid);
  REQUIRE(t);
  CHECK_FALSE(*t);
  auto c = e->get_creds(sid);
  INFO("get_creds: " << describe(c));
  REQUIRE(c);
  CHECK_FALSE(c->found);
  CHECK(c->version == 0);
  CHECK(c->creds_json == "{}");
  auto k = e->get_keys(sid, "session", {"x"});
  REQUIRE(k);
  CHECK(k->values.empty());
  raw_redis raw{redis->port()};
  CHECK(raw.integer({"DBSIZE"}) == 0); // reads and touch created nothing
}

TEST_CASE("a hot TTL is set by a write and refreshed by touch",
          "[invariant-6]") {
  auto redis = start_redis();
  // The configuration refuses a TTL until writes persist to the cold store
  // (issue #5); settings::set bypasses that cross-setting rule to test the
  // TTL mechanics themselves.
  auto cfg = test_settings(redis->url());
  REQUIRE(cfg.set("redis.hot-ttl-s", "60", "test"));
  auto started = engine::start(cfg);
  REQUIRE(started);
  auto e = std::move(*started);
  auto sid = unique_sid("ttl");
  REQUIRE(e->set_json(sid, R"({"creds":{"registered":true},
                               "keys":{"pre-key":{"1":"p1"}}})"));
  raw_redis raw{redis->port()};
  std::vector<std::string> hot
    = {"as:{" + sid + "}:m", "as:{" + sid + "}:c", "as:{" + sid + "}:k"};
  for (const auto& key : hot) {
    auto ttl = raw.integer({"PTTL", key});
    INFO(key << " PTTL " << ttl);
    CHECK(ttl > 55000);
    CHECK(ttl <= 60000);
    raw.integer({"PEXPIRE", key, "5000"});
  }
  auto t = e->touch(sid);
  REQUIRE(t);
  CHECK(*t);
  for (const auto& key : hot) {
    auto ttl = raw.integer({"PTTL", key});
    INFO(key << " PTTL after touch " << ttl);
    CHECK(ttl > 55000);
  }
}

TEST_CASE("without a hot TTL nothing of a session expires", "[invariant-6]") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("no-ttl");
  REQUIRE(e->set_json(sid, R"({"creds":{"registered":true},
                               "keys":{"pre-key":{"1":"p1"}}})"));
  REQUIRE(e->touch(sid));
  raw_redis raw{redis->port()};
  for (std::string suffix : {"m", "c", "k"})
    CHECK(raw.integer({"PTTL", "as:{" + sid + "}:" + suffix}) == -1);
}

TEST_CASE("a Buffer written in number-array form is read back in the v7 "
          "base64 form") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto sid = unique_sid("buffer");
  REQUIRE(e->set_json(sid, R"({
      "creds":{"noiseKey":{"private":{"type":"Buffer","data":[1,2,3]}}},
      "keys":{"session":{"a":{"type":"Buffer","data":[1,2,3]},
                         "empty":{"type":"Buffer","data":[]}}}})"));
  auto k = e->get_keys(sid, "session", {"a", "empty"});
  REQUIRE(k);
  REQUIRE(k->values.size() == 2);
  CHECK(json::parse(k->values["a"])
        == json::parse(R"({"type":"Buffer","data":"AQID"})"));
  CHECK(json::parse(k->values["empty"])
        == json::parse(R"({"type":"Buffer","data":""})"));
  auto c = e->get_creds(sid);
  REQUIRE(c);
  CHECK(json::parse(c->creds_json)["noiseKey"]["private"]
        == json::parse(R"({"type":"Buffer","data":"AQID"})"));
  // Stored in that form too: nothing re-encodes on the way out.
  raw_redis raw{redis->port()};
  CHECK(json::parse(raw.text({"HGET", "as:{" + sid + "}:k", "session/a"}))
        == json::parse(R"({"type":"Buffer","data":"AQID"})"));
}

TEST_CASE("batch get and delete with one invalid id answer per id") {
  auto redis = start_redis();
  auto e = start_engine(redis->url());
  auto a = unique_sid("batch");
  auto b = unique_sid("batch");
  auto missing = unique_sid("batch");
  REQUIRE(e->set_json(a, R"({"creds":{"registered":true}})"));
  REQUIRE(e->set_json(b, R"({"keys":{"pre-key":{"1":"p1"}}})"));
  std::vector<std::string> ids{a, "bad{id}", b, missing};
  caf::scoped_actor self{engine_system(*e)};
  auto router = engine_router(*e);
  self->request(router, std::chrono::seconds{5}, mget_atom::value, ids)
    .receive(
      [&](std::vector<session_result>& r) {
        REQUIRE(r.size() == 4);
        for (size_t i = 0; i < r.size(); ++i)
          CHECK(r[i].session_id == ids[i]);
        CHECK(r[0].error == 0);
        CHECK(r[0].creds.found);
        CHECK(r[1].error == static_cast<uint8_t>(errc::invalid_session_id));
        CHECK(r[2].error == 0);
        CHECK_FALSE(r[2].creds.found); // keys only, no creds
        CHECK(r[2].creds.version == 1);
        CHECK(r[3].error == 0);
        CHECK_FALSE(r[3].creds.found);
      },
      [&](caf::error& err) { FAIL("mget: " << to_failure(err).render()); });
  self->request(router, std::chrono::seconds{5}, mdel_atom::value, ids)
    .receive(
      [&](std::vector<session_result>& r) {
        REQUIRE(r.size() == 4);
        CHECK(r[0].error == 0);
        CHECK(r[0].existed);
        CHECK(r[1].error == static_cast<uint8_t>(errc::invalid_session_id));
        CHECK(r[2].error == 0);
        CHECK(r[2].existed);
        CHECK(r[3].error == 0);
        CHECK_FALSE(r[3].existed);
      },
      [&](caf::error& err) { FAIL("mdel: " << to_failure(err).render()); });
  auto ex = e->exists(a);
  REQUIRE(ex);
  CHECK_FALSE(*ex);
}

// -- validation before Redis
// ----------------------------------------------------

TEST_CASE("invalid session ids and oversized values are rejected before "
          "Redis sees anything") {
  auto redis = start_redis();
  // One connection, warmed up below: it is made and the scripts are loaded,
  // so the command counter moves only if a request reaches Redis.
  auto e = start_engine(redis->url(), {{"codec.max-value-bytes", "1024"},
                                       {"redis.pool-size", "1"}});
  auto sid = unique_sid("guard");
  REQUIRE(e->set_json(sid, R"({"keys":{"pre-key":{"1":"p1"}}})"));
  raw_redis raw{redis->port()};
  auto dbsize = raw.integer({"DBSIZE"});
  auto before = raw.info_field("stats", "total_commands_processed");
  std::vector<std::string> bad_ids = {"",
                                      std::string(129, 'a'),
                                      "{x}",
                                      "a}b",
                                      "has space",
                                      std::string("nul\0byte", 8),
                                      "s\xc3\xa9ssion",
                                      "tab\tid",
                                      "slash/id"};
  for (const auto& bad : bad_ids) {
    INFO("session id '" << bad << "' (" << bad.size() << " bytes)");
    CHECK(token_of(e->set_json(bad, R"({"creds":{"registered":true}})"))
          == "invalid_session_id");
    CHECK(token_of(e->get_creds(bad)) == "invalid_session_id");
    CHECK(token_of(e->get_keys(bad, "pre-key", {"1"})) == "invalid_session_id");
    CHECK(token_of(e->del(bad)) == "invalid_session_id");
    CHECK(token_of(e->touch(bad)) == "invalid_session_id");
    CHECK(token_of(e->exists(bad)) == "invalid_session_id");
  }
  // The longest allowed id is fine (the bound is exact).
  CHECK(e->exists(std::string(128, 'a')));
  before += 2; // that exists call: EVALSHA and the HMGET inside it
  std::string big = json(std::string(2000, 'x')).dump();
  // Through the JSON form (the codec) and as a ready patch (the session's
  // own check); the patch also carries a valid write, which must not land.
  CHECK(token_of(e->set_json(sid, R"({"keys":{"pre-key":{"2":)" + big + "}}}"))
        == "value_too_large");
  patch p;
  p.set_key("pre-key", "3", "\"small\"");
  p.set_key("pre-key", "4", big);
  CHECK(token_of(e->set(sid, p)) == "value_too_large");
  patch creds;
  creds.set_creds("me", big);
  CHECK(token_of(e->set(sid, creds)) == "value_too_large");
  // Bad key types and ids are caught before Redis too.
  CHECK(token_of(e->get_keys(sid, "bad type", {"1"})) == "invalid_argument");
  CHECK(token_of(e->get_keys(sid, "pre-key", {""})) == "invalid_argument");
  patch bad_field;
  bad_field.writes.push_back({"x:nope", false, "1"});
  CHECK(token_of(e->set(sid, bad_field)) == "invalid_argument");
  // INFO itself is the one command in between.
  CHECK(raw.info_field("stats", "total_commands_processed") == before + 1);
  CHECK(raw.integer({"DBSIZE"}) == dbsize);
  auto r = e->get_keys(sid, "pre-key", {"1", "2", "3", "4"});
  REQUIRE(r);
  CHECK(r->version == 1);
  CHECK(r->values.size() == 1);
}

} // namespace hot_path_redistest
