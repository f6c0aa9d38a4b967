// mini_mongod_mongowiretest.cpp -- the real mongo_store against mini_mongod,
// the stateful in-memory MongoDB (tests/mongowire/mini_mongod.py).
//
// Why: the mockupdb tests prove what mongo_store sends; these prove that
// what it sends keeps the store's promises when a server executes it with
// MongoDB's semantics (guarded upserts answering E11000, tombstones, the
// versioned erase of a deleted session), across a crash and a restart of the
// server (invariant 1), and that a hung server costs one socket timeout, not
// a hung caller (invariant 5). They also keep mini_mongod honest for the
// end-to-end tests that use it: every test ends by checking that it saw no
// command or operator it does not model.
//
// Each test case starts its own server on a fresh data file. Timeouts in the
// URI are at most 2 s, so a missing reply fails a test quickly.
#include "tests/mongowire/mini_mongod.hpp"

#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <mongoc/mongoc.h>

#include <catch2/catch.hpp>

#include "mongo/store.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace mini_mongod_mongowiretest {

using namespace authstore;
using namespace authstore::test;

namespace {

using clock_type = std::chrono::steady_clock;
using namespace std::chrono_literals;

// MONGOC_TOPOLOGY_COOLDOWN_MS: how long a single-threaded client skips a
// server after a failed check.
constexpr std::chrono::seconds libmongoc_cooldown{5};

const std::string sid = "s1";
// A key id with a dot, a dollar and slashes: stored as a value, never a path.
const std::string tricky_field = "k:sender-key/grp.1$x/y::0";
const std::string socket_timeout_ms = "2000";
const std::string uri_options = "serverSelectionTimeoutMS=2000"
                                "&connectTimeoutMS=1000&socketTimeoutMS="
                                + socket_timeout_ms;

field_write set(std::string field, std::string json) {
  return {std::move(field), false, std::move(json)};
}

field_write del(std::string field) {
  return {std::move(field), true, ""};
}

// A persist that only erases the session's state at or below `version`.
persist_request erase_at(uint64_t version) {
  return {sid, version, {}, true, version};
}

std::unique_ptr<mongo_store> open_store(const mini_mongod& server,
                                        int max_retries = 2) {
  mongo_store_config cfg;
  cfg.uri = server.uri(uri_options);
  cfg.write_w = "1";
  cfg.write_journal = true;
  cfg.max_retries = max_retries;
  auto store = mongo_store::open(cfg);
  REQUIRE(store);
  return std::move(*store);
}

void persist(mongo_store& store, const persist_request& req) {
  auto r = store.persist(req);
  INFO((r ? std::string("ok") : r.error().render()));
  REQUIRE(r);
  CHECK(*r == req.version);
}

session_snapshot load(mongo_store& store) {
  auto r = store.load(sid);
  INFO((r ? std::string("ok") : r.error().render()));
  REQUIRE(r);
  return *r;
}

// field -> value of a snapshot (every field in a snapshot is live).
std::map<std::string, std::string> values(const session_snapshot& snap) {
  std::map<std::string, std::string> result;
  for (const auto& w : snap.fields) {
    CHECK_FALSE(w.erase);
    result[w.field] = w.value;
  }
  return result;
}

using value_map = std::map<std::string, std::string>;

// A plain libmongoc client on the server, to look at what is stored
// underneath mongo_store and to send what mongo_store never does.
class raw_client {
public:
  explicit raw_client(const mini_mongod& server) {
    mongoc_init();
    client_ = mongoc_client_new(server.uri(uri_options).c_str());
    REQUIRE(client_);
    mongoc_client_set_error_api(client_, MONGOC_ERROR_API_VERSION_2);
  }
  ~raw_client() { mongoc_client_destroy(client_); }
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  /// Documents in `collection` matching the one-field `filter` ({path:
  /// value}), including tombstones and hidden ones; -1 when the find failed
  /// (`error` then says why).
  int64_t count(const char* collection, const char* path,
                const std::string& value) {
    mongoc_collection_t* col
      = mongoc_client_get_collection(client_, "authstore", collection);
    bson_t* filter = BCON_NEW(path, BCON_UTF8(value.c_str()));
    int64_t n = find_all(col, filter);
    bson_destroy(filter);
    mongoc_collection_destroy(col);
    return n;
  }

  /// Runs a find with an arbitrary filter; -1 when it failed.
  int64_t find_all(mongoc_collection_t* col, const bson_t* filter) {
    mongoc_cursor_t* cursor
      = mongoc_collection_find_with_opts(col, filter, nullptr, nullptr);
    const bson_t* doc = nullptr;
    int64_t n = 0;
    while (mongoc_cursor_next(cursor, &doc))
      ++n;
    if (mongoc_cursor_error(cursor, &error))
      n = -1;
    mongoc_cursor_destroy(cursor);
    return n;
  }

  mongoc_client_t* get() { return client_; }

  /// The last failure.
  bson_error_t error{};

private:
  mongoc_client_t* client_ = nullptr;
};

} // namespace

TEST_CASE("a persisted session loads back exactly from mini_mongod",
          "[invariant-1]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  REQUIRE(store->prepare());
  REQUIRE(store->ping());
  CHECK_FALSE(load(*store).found); // a successful read of nothing
  persist(*store, {sid,
                   1,
                   {set("c:me", R"({"id":"1@s.whatsapp.net"})"),
                    set(tricky_field, R"({"type":"Buffer","data":"AQI="})")}});
  persist(*store, {"other", 9, {set("c:me", R"("x")")}});
  auto snap = load(*store);
  CHECK(snap.found);
  CHECK(snap.version == 1);
  CHECK(values(snap)
        == value_map{{"c:me", R"({"id":"1@s.whatsapp.net"})"},
                     {tricky_field, R"({"type":"Buffer","data":"AQI="})"}});
  CHECK(server.errors().empty());
}

TEST_CASE("an older persist never overwrites a newer one in mini_mongod",
          "[invariant-3]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 5, {set("c:me", "5"), set("k:pre-key/1", "5")}});
  persist(*store, {sid, 3, {set("c:me", "3"), set("k:pre-key/1", "3")}});
  persist(*store, {sid, 5, {set("c:me", "5"), set("k:pre-key/1", "5")}});
  auto snap = load(*store);
  CHECK(snap.found);
  CHECK(snap.version == 5);
  CHECK(values(snap) == value_map{{"c:me", "5"}, {"k:pre-key/1", "5"}});
  CHECK(server.errors().empty());
}

TEST_CASE("a tombstone hides a key and an older write does not resurrect it",
          "[invariant-3]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 1, {set("c:me", "1"), set("k:pre-key/1", "1")}});
  persist(*store, {sid, 2, {del("k:pre-key/1")}});
  CHECK(values(load(*store)) == value_map{{"c:me", "1"}});
  persist(*store, {sid, 1, {set("k:pre-key/1", "1")}});
  auto snap = load(*store);
  CHECK(snap.version == 2);
  CHECK(values(snap) == value_map{{"c:me", "1"}});
  persist(*store, {sid, 3, {set("k:pre-key/1", "3")}});
  CHECK(values(load(*store)) == value_map{{"c:me", "1"}, {"k:pre-key/1", "3"}});
  CHECK(server.errors().empty());
}

TEST_CASE("a versioned erase makes the session not found", "[invariant-3]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 3, {set("c:me", "3"), set("k:pre-key/1", "3")}});
  persist(*store, {sid, 5, {set("k:pre-key/2", "5")}});
  raw_client raw(server);
  REQUIRE(raw.count("keys", "_id.s", sid) == 3);
  persist(*store, erase_at(5));
  // Key docs at or below the erase version are gone, not only hidden; the
  // session doc stays as the erase mark.
  CHECK(raw.count("keys", "_id.s", sid) == 0);
  CHECK(raw.count("sessions", "_id", sid) == 1);
  auto snap = load(*store);
  CHECK_FALSE(snap.found);
  CHECK(snap.fields.empty());
  persist(*store, erase_at(5)); // idempotent
  CHECK_FALSE(load(*store).found);
  CHECK(server.errors().empty());
}

TEST_CASE("a late persist at or below the erase version does not resurrect "
          "the session",
          "[invariant-3]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 3, {set("c:me", "3"), set("k:pre-key/1", "3")}});
  persist(*store, erase_at(5));
  // Read from Redis before the delete, arriving after it: new fields too.
  persist(*store, {sid, 4, {set("c:me", "4"), set("k:pre-key/2", "4")}});
  persist(*store, {sid, 5, {set("c:me", "5"), set("k:session/9", "5")}});
  auto snap = load(*store);
  CHECK_FALSE(snap.found);
  CHECK(snap.fields.empty());
  CHECK(server.errors().empty());
}

TEST_CASE("a session re-created after a versioned erase loads only its new "
          "fields",
          "[invariant-3]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 3, {set("c:me", "3"), set("k:pre-key/1", "3")}});
  SECTION("by a later persist") {
    persist(*store, erase_at(5));
    persist(*store, {sid, 6, {set("k:pre-key/2", "6")}});
  }
  SECTION("by the same persist that erases") {
    persist(*store, {sid, 6, {set("k:pre-key/2", "6")}, true, 5});
  }
  raw_client raw(server);
  CHECK(raw.count("keys", "_id.s", sid) == 1);
  auto snap = load(*store);
  CHECK(snap.found);
  CHECK(snap.version == 6);
  CHECK(values(snap) == value_map{{"k:pre-key/2", "6"}});
  // A late persist of the erased generation still changes nothing.
  persist(*store, {sid, 4, {set("c:me", "4"), set("k:pre-key/1", "4")}});
  snap = load(*store);
  CHECK(snap.version == 6);
  CHECK(values(snap) == value_map{{"k:pre-key/2", "6"}});
  CHECK(server.errors().empty());
}

TEST_CASE("an unconditional erase removes every document of the session") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 3, {set("c:me", "3"), del("k:pre-key/1")}});
  persist(*store, {"other", 3, {set("c:me", "other")}});
  persist(*store, {sid, 0, {}, true, 0});
  // Nothing left, tombstone included; the other session is untouched.
  raw_client raw(server);
  CHECK(raw.count("keys", "_id.s", sid) == 0);
  CHECK(raw.count("sessions", "_id", sid) == 0);
  CHECK(raw.count("keys", "_id.s", "other") == 1);
  persist(*store, {sid, 0, {}, true, 0}); // idempotent
  CHECK_FALSE(load(*store).found);
  auto other = store->load("other");
  REQUIRE(other);
  CHECK(values(*other) == value_map{{"c:me", "other"}});
  // Nothing marks the erase: any version re-creates the session.
  persist(*store, {sid, 1, {set("c:me", "1")}});
  auto snap = load(*store);
  CHECK(snap.found);
  CHECK(values(snap) == value_map{{"c:me", "1"}});
  CHECK(server.errors().empty());
}

TEST_CASE("acknowledged data survives a kill -9 and a restart of "
          "mini_mongod",
          "[invariant-1]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  persist(*store, {sid, 2, {set("c:me", "2"), del("k:pre-key/1")}});
  persist(*store, {"gone", 4, {set("c:me", "4")}});
  persist(*store, {"gone", 4, {}, true, 4});
  uint16_t port = server.port();
  server.kill();
  auto down = store->load(sid);
  REQUIRE_FALSE(down);
  CHECK(down.error().code == errc::cold_unavailable);
  REQUIRE(server.restart());
  CHECK(server.port() == port);
  // A new client sees the data at once.
  auto fresh = open_store(server);
  auto snap = load(*fresh);
  CHECK(snap.found);
  CHECK(snap.version == 2);
  CHECK(values(snap) == value_map{{"c:me", "2"}});
  auto gone = fresh->load("gone");
  REQUIRE(gone);
  CHECK_FALSE(gone->found);
  persist(*fresh, {sid, 1, {set("k:pre-key/1", "1")}}); // tombstone kept
  CHECK(values(load(*fresh)) == value_map{{"c:me", "2"}});
  // The old client reconnects by itself, but a single-threaded libmongoc
  // client skips a server whose check failed for a cooldown of 5 s, so its
  // calls fail (server selection) until then.
  auto deadline = clock_type::now() + libmongoc_cooldown + 3s;
  auto again = store->load(sid);
  while (!again && clock_type::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    again = store->load(sid);
  }
  REQUIRE(again);
  CHECK(values(*again) == value_map{{"c:me", "2"}});
  CHECK(server.errors().empty());
}

TEST_CASE("mini_mongod keeps its data across a compaction of its log and a "
          "record torn by kill -9",
          "[invariant-1]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  auto store = open_store(server);
  // 100 persists of one 20 kB value: a log of ~2 MB over ~20 kB of live
  // data, far past the compaction threshold (1 MB and 4x the live data).
  std::string value(20000, 'x');
  for (uint64_t v = 1; v <= 100; ++v) {
    value[0] = static_cast<char>('a' + v % 26);
    persist(*store, {sid, v, {set("k:pre-key/1", value)}});
  }
  persist(*store, {sid, 101, {set("c:me", "101")}});
  std::ifstream in(server.data_file(), std::ios::binary | std::ios::ate);
  CHECK(in.tellg() < 1500000); // compacted at least once
  in.close();
  server.kill();
  {
    // The start of a record that kill -9 cut short: never acknowledged.
    std::ofstream torn(server.data_file(), std::ios::binary | std::ios::app);
    torn.write("\x00\x10\x00\x00\x02ns", 7);
  }
  REQUIRE(server.restart());
  auto fresh = open_store(server);
  auto snap = load(*fresh);
  CHECK(snap.version == 101);
  CHECK(values(snap) == value_map{{"c:me", "101"}, {"k:pre-key/1", value}});
  persist(*fresh, {sid, 102, {set("c:me", "102")}});
  server.kill();
  REQUIRE(server.restart());
  CHECK(values(load(*open_store(server)))
        == value_map{{"c:me", "102"}, {"k:pre-key/1", value}});
  CHECK(server.errors().empty());
}

TEST_CASE("a hung mini_mongod fails a call within the socket timeout, and "
          "calls work again after it resumes",
          "[invariant-5]") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  // No retries: one attempt, bounded by socketTimeoutMS alone.
  auto store = open_store(server, 0);
  persist(*store, {sid, 1, {set("c:me", "1")}});
  server.pause();
  auto start = clock_type::now();
  auto hung = store->persist({sid, 2, {set("c:me", "2")}});
  auto elapsed = clock_type::now() - start;
  server.resume();
  REQUIRE_FALSE(hung);
  CHECK(hung.error().code == errc::cold_unavailable);
  auto timeout = std::chrono::milliseconds(std::stoi(socket_timeout_ms));
  CHECK(elapsed >= timeout - std::chrono::milliseconds(100));
  CHECK(elapsed < timeout + std::chrono::milliseconds(1500));
  // The server answers what it queued while paused (the write lands late,
  // as on a real server); the client has moved on. A new call succeeds.
  persist(*store, {sid, 3, {set("c:me", "3")}});
  auto snap = load(*store);
  CHECK(snap.version == 3);
  CHECK(values(snap) == value_map{{"c:me", "3"}});
  CHECK(server.errors().empty());
}

TEST_CASE("mini_mongod refuses what it does not model, visibly, and keeps "
          "serving") {
  mini_mongod server;
  INFO(server.log());
  REQUIRE(server.port() != 0);
  raw_client raw(server);
  bson_t* count = BCON_NEW("count", BCON_UTF8("keys"));
  bson_t reply;
  CHECK_FALSE(mongoc_client_command_simple(raw.get(), "authstore", count,
                                           nullptr, &reply, &raw.error));
  CHECK(raw.error.code == 59); // CommandNotFound
  bson_destroy(&reply);
  bson_destroy(count);
  mongoc_collection_t* keys
    = mongoc_client_get_collection(raw.get(), "authstore", "keys");
  bson_t* filter
    = BCON_NEW("v", "{", "$mod", "[", BCON_INT32(2), BCON_INT32(0), "]", "}");
  CHECK(raw.find_all(keys, filter) == -1);
  CHECK(raw.error.code == 2); // BadValue
  bson_destroy(filter);
  mongoc_collection_destroy(keys);
  CHECK(server.errors().find("mini_mongod: unsupported count")
        != std::string::npos);
  CHECK(server.errors().find("unsupported query operator $mod")
        != std::string::npos);
  auto store = open_store(server);
  CHECK(store->ping());
}

} // namespace mini_mongod_mongowiretest
