// mongo_store_read_mongowiretest.cpp -- what mongo_store's load, prepare
// (the indexes), ping and the unconditional erase send over the wire, and
// how they treat the answers, against scripted mockupdb servers
// (tests/mongowire/mock_mongod.py).
//
// The property that matters most here is invariant 4: a read that fails is a
// failure, never "not found" (Baileys would log the account out). Persist is
// covered in mongo_store_mongowiretest.cpp.
#include "mongo/store.hpp"

#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/mongowire/mock_mongod.hpp"
#include "tests/mongowire/wire_docs.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace mongo_store_read_mongowiretest {

using namespace authstore;
using namespace authstore::test;

namespace {

const std::string sid = "s1";
const std::string tricky_field = "k:pre-key/1.2$x/y";

std::unique_ptr<mongo_store> open_store(const mongo_store_config& cfg) {
  auto store = mongo_store::open(cfg);
  REQUIRE(store);
  return std::move(*store);
}

ojson session_doc(int64_t v) {
  ojson doc = ojson::object();
  doc["_id"] = sid;
  doc["v"] = i64(v);
  return doc;
}

// A session doc carrying the erase mark dv of a versioned erase.
ojson erased_session_doc(int64_t v, int64_t dv) {
  ojson doc = session_doc(v);
  doc["dv"] = i64(dv);
  return doc;
}

// A live key doc as the key read returns it: _id, then the projected val
// and v (wire_docs.hpp spells commands, not stored docs).
ojson key_doc(const std::string& field, const std::string& json, int64_t v) {
  ojson doc = ojson::object();
  doc["_id"] = key_id(sid, field);
  doc["val"] = json;
  doc["v"] = i64(v);
  return doc;
}

ojson find_watermark() {
  return ojson::parse(R"({"find": "sessions", "filter": {"_id": "s1"},
    "limit": {"$numberLong": "1"}, "$db": "authstore"})");
}

// The key read; with an erase mark dv > 0 the filter ends in
// v: {$gt: dv}, without one it is exactly as it always was.
ojson find_keys(const std::string& path, ojson value, int64_t dv = 0) {
  ojson filter = ojson::object();
  filter[path] = std::move(value);
  filter["del"] = ojson::parse(R"({"$ne": true})");
  if (dv > 0) {
    filter["v"] = ojson::object();
    filter["v"]["$gt"] = i64(dv);
  }
  ojson cmd = ojson::object();
  cmd["find"] = "keys";
  cmd["filter"] = std::move(filter);
  cmd["projection"]
    = ojson::parse(R"({"val": {"$numberInt": "1"}, "v": {"$numberInt": "1"}})");
  cmd["$db"] = "authstore";
  return cmd;
}

} // namespace

TEST_CASE("load reads the watermark, then every live key of the session",
          "[invariant-4]") {
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {session_doc(9)})),
          answer(cursor_of("keys", {key_doc(tricky_field, "2", 9),
                                    key_doc("c:me", R"({"id":"1"})", 4)}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(r->found);
  CHECK(r->version == 9);
  // Sorted by field name, whatever order the server used.
  CHECK(r->fields
        == std::vector<field_write>{{"c:me", false, R"({"id":"1"})"},
                                    {tricky_field, false, "2"}});
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == find_watermark());
  // Tombstones are skipped by the server; "_id.s" is a fixed path and the
  // session id only ever a value.
  CHECK(cmds[1] == find_keys("_id.s", sid));
}

TEST_CASE("a session without documents is not found only after both reads "
          "succeeded",
          "[invariant-4]") {
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {})), answer(cursor_of("keys", {}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(*r == session_snapshot{});
  CHECK_FALSE(r->found);
  CHECK(commands_of(mock).size() == 2);
}

TEST_CASE("key documents without a watermark load as found at their "
          "version",
          "[invariant-4]") {
  // A first persist that stopped before its watermark: the keys are real
  // data, and "not found" would make Baileys start a new login.
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {})),
          answer(cursor_of("keys", {key_doc("c:me", "1", 2)}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(r->found);
  CHECK(r->version == 2);
  CHECK(r->fields.size() == 1);
}

TEST_CASE("a failed read is a failure, never not found", "[invariant-4]") {
  ojson steps;
  errc expected = errc::cold_error;
  SECTION("the watermark read is refused") {
    steps = plan({answer(command_failed(13))});
  }
  SECTION("the key read is refused") {
    steps
      = plan({answer(cursor_of("sessions", {})), answer(command_failed(13))});
  }
  SECTION("the connection drops during the key read") {
    steps = plan({answer(cursor_of("sessions", {})), hang_up()});
    expected = errc::cold_unavailable;
  }
  SECTION("a primary steps down during the watermark read") {
    steps = plan({answer(command_failed(189))});
    expected = errc::cold_unavailable;
  }
  SECTION("a key document has lost its value") {
    ojson broken = key_doc("c:me", "1", 3);
    broken.erase("val");
    steps = plan({answer(cursor_of("sessions", {session_doc(3)})),
                  answer(cursor_of("keys", {broken}))});
  }
  // Without its v the snapshot's version could not cover the doc, and a
  // read-through would warm Redis below it.
  SECTION("a live key document has lost its version") {
    ojson broken = key_doc("c:me", "1", 3);
    broken.erase("v");
    steps = plan({answer(cursor_of("sessions", {session_doc(3)})),
                  answer(cursor_of("keys", {broken}))});
  }
  SECTION("a live key document without a version and without a watermark") {
    // The one live key doc is what would make the session found; skipping
    // it would turn a broken read into "not found".
    ojson broken = key_doc("c:me", "1", 3);
    broken.erase("v");
    steps = plan(
      {answer(cursor_of("sessions", {})), answer(cursor_of("keys", {broken}))});
  }
  SECTION("a live key document's version is not an integer") {
    ojson broken = key_doc("c:me", "1", 3);
    broken["v"] = "7";
    steps = plan(
      {answer(cursor_of("sessions", {session_doc(3)})),
       answer(cursor_of("keys", {key_doc(tricky_field, "2", 2), broken}))});
  }
  SECTION("a live key document's version is negative") {
    steps = plan({answer(cursor_of("sessions", {})),
                  answer(cursor_of("keys", {key_doc("c:me", "1", -1)}))});
  }
  SECTION("the watermark is not an integer") {
    ojson broken = session_doc(3);
    broken["v"] = "3";
    steps = plan({answer(cursor_of("sessions", {broken}))});
  }
  SECTION("the erase mark is not an integer") {
    // Reading past it would return the deleted keys; "not found" would be
    // a guess. Neither: a failure.
    ojson broken = session_doc(3);
    broken["dv"] = "3";
    steps = plan({answer(cursor_of("sessions", {broken}))});
  }
  mock_mongod mock(steps);
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto cfg = config_for(mock);
  cfg.max_retries = 0;
  auto store = open_store(cfg);
  auto r = store->load(sid);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == expected);
  CHECK(store->last_error_kind() != mongo_error_kind::none);
  // Every scripted step was consumed and nothing more was asked.
  CHECK(commands_of(mock).size() == steps["steps"].size());
}

TEST_CASE("load reports a version at least as new as every key doc it "
          "returns",
          "[invariant-3]") {
  // A persist at 7 wrote its key doc and stopped before its watermark (still
  // 5). A read-through warms Redis at the version reported here; at 5 the
  // next write (6) would be dropped as "already newer" by the key doc at 7.
  const std::vector<ojson> keys
    = {key_doc("c:me", "1", 4), key_doc(tricky_field, "2", 7)};
  mock_mongod mock(plan({answer(cursor_of("sessions", {session_doc(5)})),
                         answer(cursor_of("keys", keys))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(*r
        == session_snapshot{
          true, 7, {{"c:me", false, "1"}, {tricky_field, false, "2"}}});
  CHECK(commands_of(mock).size() == 2);
}

// The unconditional erase (a delete of a session Redis had no trace of)
// travels as a persist with erase at version 0.
persist_request erase_all() {
  persist_request req{sid, 0, {}};
  req.erase = true;
  return req;
}

TEST_CASE("an unconditional erase deletes the watermark first, then every "
          "key doc and tombstone",
          "[invariant-6]") {
  int sessions_n = 0, keys_n = 0;
  SECTION("a stored session") {
    sessions_n = 1;
    keys_n = 3;
  }
  SECTION("keys without a watermark") {
    keys_n = 2;
  }
  SECTION("nothing stored") {}
  mock_mongod mock(
    plan({answer(writes_ok(sessions_n)), answer(writes_ok(keys_n))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(erase_all());
  REQUIRE(r);
  CHECK(*r == 0);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  ojson by_id = ojson::object();
  by_id["_id"] = sid;
  CHECK(cmds[0] == delete_command("sessions", by_id, 1));
  ojson by_session = ojson::object();
  by_session["_id.s"] = sid;
  CHECK(cmds[1] == delete_command("keys", by_session, 0));
  // The shared helpers spell the same two commands (persist's tests use
  // them).
  CHECK(cmds[0] == delete_session(sid));
  CHECK(cmds[1] == delete_all_keys(sid));
}

TEST_CASE("a refused erase of the watermark leaves the keys alone") {
  mock_mongod mock(plan({answer(command_failed(13))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(erase_all());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("prepare creates by_session on _id.s and reports a refusal") {
  ojson reply = writes_ok(0);
  bool ok = true;
  SECTION("created") {
    reply = ojson::parse(R"({"ok": 1, "createdCollectionAutomatically": true,
      "numIndexesBefore": 1, "numIndexesAfter": 2})");
  }
  SECTION("refused: an index of that name with other options exists") {
    reply = command_failed(85);
    ok = false;
  }
  mock_mongod mock(plan({answer(reply)}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->prepare();
  CHECK(static_cast<bool>(r) == ok);
  if (!ok)
    CHECK(r.error().code == errc::cold_error);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 1);
  ojson expected = ojson::parse(R"({"createIndexes": "keys", "indexes":
    [{"key": {"_id.s": {"$numberInt": "1"}}, "name": "by_session"}],
    "$db": "authstore"})");
  expected["writeConcern"] = majority_journaled();
  CHECK(cmds[0] == expected);
}

TEST_CASE("ping round-trips once to the admin database, unretried",
          "[invariant-5]") {
  ojson step;
  bool ok = true;
  SECTION("answered") {
    step = answer(ojson::parse(R"({"ok": 1})"));
  }
  SECTION("hung up") {
    step = hang_up();
    ok = false;
  }
  mock_mongod mock(plan({step}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->ping();
  CHECK(static_cast<bool>(r) == ok);
  if (!ok)
    CHECK(r.error().code == errc::cold_unavailable);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0] == ojson::parse(R"({"ping": {"$numberInt": "1"},
    "$db": "admin"})"));
}

// -- reads after a versioned erase -------------------------------------------

TEST_CASE("a load after a versioned erase hides the key docs at or below "
          "the erase mark",
          "[invariant-3]") {
  int64_t v = 0;
  std::vector<ojson> keys;
  session_snapshot expected;
  SECTION("deleted and not written since: not found, at the mark's version") {
    v = 5;
    expected = {false, 5, {}};
  }
  SECTION("a live key newer than the mark makes it found") {
    // A persist after the delete whose watermark is not written yet.
    v = 5;
    // Its key doc's version, not the watermark's, is the snapshot's.
    keys = {key_doc("c:me", "2", 6)};
    expected = {true, 6, {{"c:me", false, "2"}}};
  }
  SECTION("a watermark above the mark makes it found without keys") {
    v = 8;
    expected = {true, 8, {}};
  }
  SECTION("written again after the delete") {
    v = 8;
    keys = {key_doc(tricky_field, "3", 8), key_doc("c:me", "2", 7)};
    expected = {true, 8, {{"c:me", false, "2"}, {tricky_field, false, "3"}}};
  }
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {erased_session_doc(v, 5)})),
          answer(cursor_of("keys", keys))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(*r == expected);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == find_watermark());
  // The mark's condition comes last, after del: {$ne: true}.
  CHECK(cmds[1] == find_keys("_id.s", sid, 5));
  REQUIRE(cmds[1]["filter"].size() == 3);
  CHECK(std::next(cmds[1]["filter"].begin(), 2).key() == "v");
}

TEST_CASE("a load without an erase mark sends the key read unchanged") {
  ojson doc = session_doc(4);
  SECTION("no dv field") {}
  SECTION("dv 0") {
    doc["dv"] = i64(0);
  }
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {doc})),
          answer(cursor_of("keys", {key_doc("c:me", "1", 4)}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(*r == session_snapshot{true, 4, {{"c:me", false, "1"}}});
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[1] == find_keys("_id.s", sid));
  CHECK_FALSE(cmds[1]["filter"].contains("v"));
}

} // namespace mongo_store_read_mongowiretest
