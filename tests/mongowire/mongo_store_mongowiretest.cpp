// mongo_store_mongowiretest.cpp -- what mongo_store's persist sends over the
// wire, and how it treats every kind of answer, against scripted mockupdb
// servers (tests/mongowire/mock_mongod.py).
//
// Each test starts its own mock with a plan of replies, runs one store call
// and compares the exact commands received (key order and BSON types
// included) with the document model of mongo/store.hpp. Timeouts in
// the URIs are at most 2 s, so a missing reply fails a test quickly.
// Reads, indexes and ping are in mongo_store_read_mongowiretest.cpp; the
// classification of libmongoc errors is in tests/unit/mongo_error_test.cpp.
#include "mongo/store.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/mongowire/mock_mongod.hpp"
#include "tests/mongowire/wire_docs.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace mongo_store_mongowiretest {

using namespace authstore;
using namespace authstore::test;

namespace {

using clock_type = std::chrono::steady_clock;

const std::string sid = "s1";
const std::string me_json = R"({"id":"1@s.whatsapp.net"})";
const std::string buffer_json = R"({"type":"Buffer","data":"AQI="})";
// A key id with a dot, a dollar and slashes: stored as a value, never a path.
const std::string tricky_field = "k:sender-key/grp.1$x/y::0";

persist_request two_fields(uint64_t version) {
  return {sid,
          version,
          {{"c:me", false, me_json}, {tricky_field, false, buffer_json}}};
}

std::unique_ptr<mongo_store> open_store(const mongo_store_config& cfg) {
  auto store = mongo_store::open(cfg);
  REQUIRE(store);
  return std::move(*store);
}

// The detail of a failure names codes and kinds only, never a value, the
// session id or a field name.
void check_detail_is_clean(const failure& f) {
  INFO(f.render());
  for (const std::string& secret : {me_json, buffer_json, tricky_field,
                                    std::string("c:me"), std::string("AQI=")})
    CHECK(f.detail.find(secret) == std::string::npos);
  CHECK(f.detail.find("\"" + sid + "\"") == std::string::npos);
}

uint16_t closed_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd); // nothing listens there now
  return ntohs(addr.sin_port);
}

} // namespace

TEST_CASE("persist sends one unordered bulk of version-guarded upserts and "
          "then the watermark",
          "[invariant-3]") {
  mock_mongod mock(plan({answer(writes_ok(3)), answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  persist_request req = two_fields(7);
  req.fields.push_back({"k:pre-key/2", true, ""});
  auto r = store->persist(req);
  REQUIRE(r);
  CHECK(*r == 7);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  // Items are sorted by field name; the tombstone drops val, values drop del.
  CHECK(
    cmds[0]
    == update_command(
      "keys", ojson::array({value_item(sid, "c:me", 7, me_json),
                            tombstone_item(sid, "k:pre-key/2", 7),
                            value_item(sid, tricky_field, 7, buffer_json)})));
  CHECK(cmds[1]
        == update_command("sessions", ojson::array({watermark_item(sid, 7)})));
}

TEST_CASE("the last write of a field in one persist wins", "[invariant-2]") {
  mock_mongod mock(plan({answer(writes_ok(1)), answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  REQUIRE(store->persist({sid, 4, {{"c:me", false, "1"}, {"c:me", true, ""}}}));
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0]["updates"] == ojson::array({tombstone_item(sid, "c:me", 4)}));
}

TEST_CASE("a duplicate key on a guarded upsert means already newer and is a "
          "success",
          "[invariant-3]") {
  // Round one: item 1 exists at >= V. The confirm round sends that item
  // alone, with the same guard, and E11000 there is final. The watermark
  // gets the same treatment.
  mock_mongod mock(
    plan({answer(write_errors({1}, 11000)), answer(write_errors({0}, 11000)),
          answer(write_errors({0}, 11000)), answer(write_errors({0}, 11000))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(two_fields(7));
  REQUIRE(r);
  CHECK(*r == 7);
  CHECK(store->last_error_kind() == mongo_error_kind::none);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 4);
  CHECK(cmds[0]["updates"]
        == ojson::array({value_item(sid, "c:me", 7, me_json),
                         value_item(sid, tricky_field, 7, buffer_json)}));
  CHECK(cmds[1]
        == update_command("keys", ojson::array({value_item(sid, tricky_field, 7,
                                                           buffer_json)})));
  auto watermark
    = update_command("sessions", ojson::array({watermark_item(sid, 7)}));
  CHECK(cmds[2] == watermark);
  CHECK(cmds[3] == watermark);
}

TEST_CASE("an item that lost a concurrent insert race is written by the "
          "confirm round",
          "[invariant-2]") {
  // E11000 in round one, then the confirm round matches the (older) doc
  // the other writer inserted and updates it.
  mock_mongod mock(plan({answer(write_errors({0}, 11000)), answer(writes_ok(1)),
                         answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  REQUIRE(store->persist({sid, 9, {{"c:me", false, me_json}}}));
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0] == cmds[1]);
  CHECK(cmds[2]["update"] == "sessions");
}

TEST_CASE("a write error other than a duplicate key fails the persist before "
          "the watermark") {
  ojson reply = write_errors({0}, 11000);
  reply["writeErrors"].push_back(write_errors({1}, 121)["writeErrors"][0]);
  mock_mongod mock(plan({answer(reply)}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(two_fields(7));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  CHECK(r.error().detail.find("write_error") != std::string::npos);
  CHECK(r.error().detail.find("code 121") != std::string::npos);
  check_detail_is_clean(r.error());
  CHECK(store->last_error_kind() == mongo_error_kind::write_error);
  // Not retried, and no watermark: the keys are not all stored.
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("a refused command fails the persist with cold_error, unretried") {
  mock_mongod mock(plan({answer(command_failed(13))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(two_fields(7));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_error);
  CHECK(store->last_error_kind() == mongo_error_kind::command_error);
  check_detail_is_clean(r.error());
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("a write concern timeout fails the persist with timeout") {
  ojson reply = writes_ok(2);
  reply["writeConcernError"] = ojson::parse(
    R"({"code": 64, "errmsg": "waiting for replication timed out"})");
  mock_mongod mock(plan({answer(reply)}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(two_fields(7));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::timeout);
  CHECK(store->last_error_kind() == mongo_error_kind::timeout);
  CHECK(commands_of(mock).size() == 1);
}

TEST_CASE("not primary is retried and the retry completes the persist") {
  mock_mongod mock(plan({answer(command_failed(10107)), answer(writes_ok(2)),
                         answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(two_fields(7));
  REQUIRE(r);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 3);
  CHECK(cmds[0] == cmds[1]);
  CHECK(cmds[2]["update"] == "sessions");
}

TEST_CASE("a hang-up mid-command is cold_unavailable, promptly, after "
          "max_retries retries",
          "[invariant-5]") {
  mock_mongod mock(plan({hang_up(), hang_up()}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  // The socket timeout is longer than the bound: "promptly" means the
  // hang-up is noticed, not waited out.
  auto cfg = config_for(mock, "serverSelectionTimeoutMS=2000"
                              "&connectTimeoutMS=2000&socketTimeoutMS=2000");
  cfg.max_retries = 1;
  auto store = open_store(cfg);
  auto start = clock_type::now();
  auto r = store->persist(two_fields(7));
  auto ms = elapsed_ms(start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(r.error().detail.find("after 2 attempt(s)") != std::string::npos);
  CHECK(store->last_error_kind() == mongo_error_kind::network);
  check_detail_is_clean(r.error());
  CHECK(ms < 2000);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0]["update"] == "keys");
  CHECK(cmds[1] == cmds[0]);
}

TEST_CASE("a server that never answers fails within the socket timeout",
          "[invariant-5]") {
  mock_mongod mock(plan({stay_silent(), stay_silent()}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto cfg = config_for(mock, "serverSelectionTimeoutMS=1000"
                              "&connectTimeoutMS=1000&socketTimeoutMS=300");
  cfg.max_retries = 1;
  auto store = open_store(cfg);
  auto start = clock_type::now();
  auto r = store->persist(two_fields(7));
  auto ms = elapsed_ms(start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  // Two attempts, each waiting out the 300 ms socket timeout.
  CHECK(ms >= 600);
  CHECK(ms < 2000);
  CHECK(commands_of(mock).size() == 2);
}

TEST_CASE("a server that never answers the handshake fails within "
          "connectTimeoutMS",
          "[invariant-5]") {
  ojson p = plan({stay_silent(), stay_silent(), stay_silent()});
  p["handshake"] = false;
  mock_mongod mock(p);
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto cfg = config_for(mock, "serverSelectionTimeoutMS=1000"
                              "&connectTimeoutMS=300&socketTimeoutMS=300");
  auto store = open_store(cfg);
  auto start = clock_type::now();
  auto r = store->persist(two_fields(7));
  auto ms = elapsed_ms(start);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(ms < 2000);
  auto received = mock.received();
  REQUIRE_FALSE(received.empty());
  for (const auto& rec : received)
    CHECK(rec["cmd"] != "update"); // only handshakes reached the server
}

TEST_CASE("a refused connection is cold_unavailable at once", "[invariant-5]") {
  mongo_store_config cfg;
  cfg.uri = "mongodb://127.0.0.1:" + std::to_string(closed_port())
            + "/?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000";
  cfg.retry_backoff = std::chrono::milliseconds(10);
  auto store = open_store(cfg);
  auto start = clock_type::now();
  auto r = store->persist(two_fields(7));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == errc::cold_unavailable);
  CHECK(elapsed_ms(start) < 2000);
  auto p = store->ping();
  REQUIRE_FALSE(p);
  CHECK(p.error().code == errc::cold_unavailable);
}

TEST_CASE("the write concern is configurable") {
  mock_mongod mock(plan({answer(writes_ok(1)), answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto cfg = config_for(mock);
  cfg.write_w = "2";
  cfg.write_journal = false;
  cfg.write_timeout = std::chrono::milliseconds(0);
  auto store = open_store(cfg);
  REQUIRE(store->persist({sid, 3, {{"c:me", false, me_json}}}));
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  ojson wc = ojson::object();
  wc["w"] = i32(2);
  wc["j"] = false;
  CHECK(cmds[0]["writeConcern"] == wc);
  CHECK(cmds[1]["writeConcern"] == wc);
}

TEST_CASE("open refuses a bad configuration without echoing the URI") {
  mongo_store_config cfg;
  cfg.uri = "mongodb://user:s3cret@127.0.0.1:notaport/";
  auto bad_uri = mongo_store::open(cfg);
  REQUIRE_FALSE(bad_uri);
  CHECK(bad_uri.error().code == errc::invalid_config);
  CHECK(bad_uri.error().detail.find("s3cret") == std::string::npos);
  cfg.uri = "mongodb://127.0.0.1:1/";
  for (const char* w : {"0", "", "00"}) {
    cfg.write_w = w;
    auto unacknowledged = mongo_store::open(cfg);
    REQUIRE_FALSE(unacknowledged);
    CHECK(unacknowledged.error().code == errc::invalid_config);
  }
}

TEST_CASE("persist refuses version 0 before touching the server") {
  mongo_store_config cfg;
  cfg.uri = "mongodb://127.0.0.1:" + std::to_string(closed_port()) + "/";
  auto store = open_store(cfg);
  for (uint64_t v : {uint64_t{0}, uint64_t{INT64_MAX} + 1}) {
    auto r = store->persist({sid, v, {{"c:me", false, me_json}}});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
}

// -- erase through persist (the versioned erase) ----------------------------

namespace {

persist_request erase_only(uint64_t version, uint64_t erase_version) {
  persist_request req{sid, version, {}};
  req.erase = true;
  req.erase_version = erase_version;
  return req;
}

} // namespace

TEST_CASE("a versioned erase raises the mark with $max, deletes the key docs "
          "at or below it, and writes no watermark",
          "[invariant-3]") {
  mock_mongod mock(plan({answer(writes_ok(1)), answer(writes_ok(4))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  auto r = store->persist(erase_only(5, 5));
  REQUIRE(r);
  CHECK(*r == 5);
  CHECK(store->last_error_kind() == mongo_error_kind::none);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0]
        == update_command("sessions", ojson::array({erase_mark_item(sid, 5)})));
  CHECK(cmds[1] == delete_command("keys", erased_keys(sid, 5), 0));
}

TEST_CASE("an erase with fields erases first, then upserts the keys, then "
          "the watermark",
          "[invariant-3]") {
  mock_mongod mock(plan({answer(writes_ok(1)), answer(writes_ok(2)),
                         answer(writes_ok(2)), answer(writes_ok(1))}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  persist_request req = two_fields(9);
  req.fields.push_back({"k:pre-key/2", true, ""});
  req.erase = true;
  req.erase_version = 6;
  auto r = store->persist(req);
  REQUIRE(r);
  CHECK(*r == 9);
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == 4);
  CHECK(cmds[0]
        == update_command("sessions", ojson::array({erase_mark_item(sid, 6)})));
  CHECK(cmds[1] == delete_command("keys", erased_keys(sid, 6), 0));
  CHECK(
    cmds[2]
    == update_command(
      "keys", ojson::array({value_item(sid, "c:me", 9, me_json),
                            tombstone_item(sid, "k:pre-key/2", 9),
                            value_item(sid, tricky_field, 9, buffer_json)})));
  CHECK(cmds[3]
        == update_command("sessions", ojson::array({watermark_item(sid, 9)})));
}

TEST_CASE("an erase at version 0 is the unconditional erase, with no mark",
          "[invariant-6]") {
  SECTION("alone") {
    // Redis had no trace of the session: version 0 is allowed here only.
    mock_mongod mock(plan({answer(writes_ok(1)), answer(writes_ok(3))}));
    INFO(mock.log());
    REQUIRE(mock.port() != 0);
    auto store = open_store(config_for(mock));
    auto r = store->persist(erase_only(0, 0));
    REQUIRE(r);
    CHECK(*r == 0);
    auto cmds = commands_of(mock);
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[0] == delete_session(sid));
    CHECK(cmds[1] == delete_all_keys(sid));
  }
  SECTION("followed by fields") {
    mock_mongod mock(plan({answer(writes_ok(0)), answer(writes_ok(0)),
                           answer(writes_ok(1)), answer(writes_ok(1))}));
    INFO(mock.log());
    REQUIRE(mock.port() != 0);
    auto store = open_store(config_for(mock));
    persist_request req{sid, 3, {{"c:me", false, me_json}}};
    req.erase = true;
    auto r = store->persist(req);
    REQUIRE(r);
    CHECK(*r == 3);
    auto cmds = commands_of(mock);
    REQUIRE(cmds.size() == 4);
    CHECK(cmds[0] == delete_session(sid));
    CHECK(cmds[1] == delete_all_keys(sid));
    CHECK(cmds[2]
          == update_command(
            "keys", ojson::array({value_item(sid, "c:me", 3, me_json)})));
    CHECK(
      cmds[3]
      == update_command("sessions", ojson::array({watermark_item(sid, 3)})));
  }
}

TEST_CASE("an erase mark that lost a concurrent insert race is sent once "
          "more",
          "[invariant-3]") {
  // E11000 on an upsert by _id: another writer inserted the doc first. The
  // second round matches that doc; E11000 again is a real failure, since an
  // unguarded $max cannot mean "already newer".
  SECTION("the second round applies") {
    mock_mongod mock(plan({answer(write_errors({0}, 11000)),
                           answer(writes_ok(1)), answer(writes_ok(0))}));
    INFO(mock.log());
    REQUIRE(mock.port() != 0);
    auto store = open_store(config_for(mock));
    REQUIRE(store->persist(erase_only(5, 5)));
    auto cmds = commands_of(mock);
    REQUIRE(cmds.size() == 3);
    CHECK(cmds[0] == cmds[1]);
    CHECK(cmds[2] == delete_command("keys", erased_keys(sid, 5), 0));
  }
  SECTION("the second round is refused too") {
    mock_mongod mock(plan(
      {answer(write_errors({0}, 11000)), answer(write_errors({0}, 11000))}));
    INFO(mock.log());
    REQUIRE(mock.port() != 0);
    auto store = open_store(config_for(mock));
    auto r = store->persist(erase_only(5, 5));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::cold_error);
    CHECK(store->last_error_kind() == mongo_error_kind::duplicate_key);
    check_detail_is_clean(r.error());
    CHECK(commands_of(mock).size() == 2); // the keys are not touched
  }
}

TEST_CASE("a failed erase step stops the persist before the fields") {
  ojson steps;
  errc expected = errc::cold_error;
  size_t sent = 0;
  SECTION("the mark is refused") {
    steps = plan({answer(command_failed(13))});
    sent = 1;
  }
  SECTION("the key delete hangs up, twice") {
    steps = plan({answer(writes_ok(1)), hang_up(), hang_up()});
    expected = errc::cold_unavailable;
    sent = 3;
  }
  mock_mongod mock(steps);
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto cfg = config_for(mock);
  cfg.max_retries = 1;
  auto store = open_store(cfg);
  persist_request req = two_fields(9);
  req.erase = true;
  req.erase_version = 6;
  auto r = store->persist(req);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == expected);
  check_detail_is_clean(r.error());
  auto cmds = commands_of(mock);
  REQUIRE(cmds.size() == sent);
  CHECK(cmds[0]
        == update_command("sessions", ojson::array({erase_mark_item(sid, 6)})));
  // No key upsert and no watermark: the only update is the mark.
  for (size_t i = 1; i < cmds.size(); ++i)
    CHECK(cmds[i] == delete_command("keys", erased_keys(sid, 6), 0));
}

TEST_CASE("persist refuses an inconsistent erase before touching the "
          "server") {
  mock_mongod mock(plan({}));
  INFO(mock.log());
  REQUIRE(mock.port() != 0);
  auto store = open_store(config_for(mock));
  std::vector<persist_request> bad;
  // Version 0 is allowed only for an erase without fields.
  bad.push_back(two_fields(0));
  bad.back().erase = true;
  // The erase mark may not be above the version it was read at.
  bad.push_back(erase_only(4, 5));
  bad.push_back(two_fields(5));
  bad.back().erase = true;
  bad.back().erase_version = 6;
  bad.push_back(two_fields(5));
  bad.back().erase_version = 6; // even without erase: the request is corrupt
  bad.push_back(erase_only(uint64_t{INT64_MAX} + 1, 1));
  for (const auto& req : bad) {
    INFO("version " << req.version << " erase_version " << req.erase_version);
    auto r = store->persist(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
  CHECK(mock.received().empty());
}

} // namespace mongo_store_mongowiretest
