// mongo_store_read_mongowiretest.cpp -- what mongo_store's load, load_fields,
// erase, ensure_indexes and ping send over the wire, and how they treat the
// answers, against scripted mockupdb servers (tests/mongowire/mock_mongod.py).
//
// The property that matters most here is invariant 4: a read that fails is a
// failure, never "not found" (Baileys would log the account out). Persist is
// covered in mongo_store_mongowiretest.cpp.
#include "actors/mongo_store.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/mongowire/mock_mongod.hpp"
#include "tests/mongowire/wire_docs.hpp"

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

ojson key_doc(const std::string& field, const std::string& json) {
  ojson doc = ojson::object();
  doc["_id"] = key_id(sid, field);
  doc["val"] = json;
  return doc;
}

ojson find_watermark() {
  return ojson::parse(R"({"find": "sessions", "filter": {"_id": "s1"},
    "limit": {"$numberLong": "1"}, "$db": "authstore"})");
}

ojson find_keys(const std::string& path, ojson value) {
  ojson filter = ojson::object();
  filter[path] = std::move(value);
  filter["del"] = ojson::parse(R"({"$ne": true})");
  ojson cmd = ojson::object();
  cmd["find"] = "keys";
  cmd["filter"] = std::move(filter);
  cmd["projection"] = ojson::parse(R"({"val": {"$numberInt": "1"}})");
  cmd["$db"] = "authstore";
  return cmd;
}

ojson delete_command(const std::string& coll, ojson q, int32_t limit) {
  ojson item = ojson::object();
  item["q"] = std::move(q);
  item["limit"] = i32(limit);
  ojson cmd = ojson::object();
  cmd["delete"] = coll;
  cmd["ordered"] = true;
  cmd["$db"] = "authstore";
  cmd["writeConcern"] = majority_journaled();
  cmd["deletes"] = ojson::array({item});
  return cmd;
}

} // namespace

TEST_CASE("load reads the watermark, then every live key of the session",
          "[invariant-4]") {
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {session_doc(9)})),
          answer(cursor_of("keys", {key_doc(tricky_field, "2"),
                                    key_doc("c:me", R"({"id":"1"})")}))}));
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

TEST_CASE("key documents without a watermark load as found at version 0",
          "[invariant-4]") {
  // A first persist that stopped before its watermark: the keys are real
  // data, and "not found" would make Baileys start a new login.
  mock_mongod mock(plan({answer(cursor_of("sessions", {})),
                         answer(cursor_of("keys", {key_doc("c:me", "1")}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load(sid);
  REQUIRE(r);
  CHECK(r->found);
  CHECK(r->version == 0);
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
    ojson broken = key_doc("c:me", "1");
    broken.erase("val");
    steps = plan({answer(cursor_of("sessions", {session_doc(3)})),
                  answer(cursor_of("keys", {broken}))});
  }
  SECTION("the watermark is not an integer") {
    ojson broken = session_doc(3);
    broken["v"] = "3";
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

TEST_CASE("load_fields asks for exactly the named keys, by _id") {
  mock_mongod mock(
    plan({answer(cursor_of("sessions", {session_doc(3)})),
          answer(cursor_of("keys", {key_doc(tricky_field, "x")}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load_fields(sid, {"c:me", tricky_field});
  REQUIRE(r);
  CHECK(r->found);
  CHECK(r->version == 3);
  CHECK(r->fields == std::vector<field_write>{{tricky_field, false, "x"}});
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0] == find_watermark());
  ojson in = ojson::object();
  in["$in"] = ojson::array({key_id(sid, "c:me"), key_id(sid, tricky_field)});
  CHECK(cmds[1] == find_keys("_id", in));
}

TEST_CASE("load_fields of no fields reads only the watermark") {
  mock_mongod mock(plan({answer(cursor_of("sessions", {session_doc(5)}))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->load_fields(sid, {});
  REQUIRE(r);
  CHECK(r->found);
  CHECK(r->version == 5);
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("erase deletes the watermark first, then every key doc and "
          "tombstone",
          "[invariant-6]") {
  int sessions_n = 0, keys_n = 0;
  bool existed = false;
  SECTION("a stored session") {
    sessions_n = 1;
    keys_n = 3;
    existed = true;
  }
  SECTION("keys without a watermark") {
    keys_n = 2;
    existed = true;
  }
  SECTION("nothing stored") {}
  mock_mongod mock(
    plan({answer(writes_ok(sessions_n)), answer(writes_ok(keys_n))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->erase(sid);
  REQUIRE(r);
  CHECK(*r == existed);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  ojson by_id = ojson::object();
  by_id["_id"] = sid;
  CHECK(cmds[0] == delete_command("sessions", by_id, 1));
  ojson by_session = ojson::object();
  by_session["_id.s"] = sid;
  CHECK(cmds[1] == delete_command("keys", by_session, 0));
}

TEST_CASE("a refused erase of the watermark leaves the keys alone") {
  mock_mongod mock(plan({answer(command_failed(13))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->erase(sid);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("ensure_indexes creates by_session on _id.s and reports a refusal") {
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
  auto r = store->ensure_indexes();
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
