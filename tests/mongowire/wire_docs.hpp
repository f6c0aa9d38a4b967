// wire_docs.hpp -- the commands mongo_store must send, and scripted replies,
// as canonical extended JSON (what mock_mongod.py records and reads).
//
// Why: the mongowire tests compare whole commands, key order included, so
// the expected documents are spelled once here and read like the document
// model in mongo/store.hpp. int64 values are {"$numberLong": "7"},
// int32 ones {"$numberInt": "1"}: a version stored as the wrong BSON type
// would be a real bug, so the type is part of the assertion.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "mongo/store.hpp"
#include "tests/mongowire/mock_mongod.hpp"

namespace authstore::test {

/// Timeouts for a mock that answers: short, so a missed reply fails fast.
inline const std::string quick_timeouts
  = "serverSelectionTimeoutMS=1000&connectTimeoutMS=1000"
    "&socketTimeoutMS=1000";

/// A store config for `mock` with `options` and a short retry backoff.
inline mongo_store_config config_for(const mock_mongod& mock,
                                     const std::string& options
                                     = quick_timeouts) {
  mongo_store_config cfg;
  cfg.uri = mock.uri(options);
  cfg.retry_backoff = std::chrono::milliseconds(10);
  return cfg;
}

/// {"$numberLong": "<v>"}
inline ojson i64(int64_t v) {
  ojson x = ojson::object();
  x["$numberLong"] = std::to_string(v);
  return x;
}

/// {"$numberInt": "<v>"}
inline ojson i32(int32_t v) {
  ojson x = ojson::object();
  x["$numberInt"] = std::to_string(v);
  return x;
}

/// The default write concern: majority, journaled, wtimeout 5 s.
inline ojson majority_journaled() {
  ojson wc = ojson::object();
  wc["w"] = "majority";
  wc["j"] = true;
  wc["wtimeout"] = i64(5000);
  return wc;
}

/// A key document's _id: {s: sid, f: field}, in this order.
inline ojson key_id(const std::string& sid, const std::string& field) {
  ojson id = ojson::object();
  id["s"] = sid;
  id["f"] = field;
  return id;
}

/// The version guard {"$lt": V}.
inline ojson older_than(int64_t v) {
  ojson g = ojson::object();
  g["$lt"] = i64(v);
  return g;
}

/// One item of an update command: a guarded upsert.
inline ojson upsert_item(ojson q, ojson set, ojson unset) {
  ojson u = ojson::object();
  u["$set"] = std::move(set);
  if (!unset.is_null())
    u["$unset"] = std::move(unset);
  ojson item = ojson::object();
  item["q"] = std::move(q);
  item["u"] = std::move(u);
  item["upsert"] = true;
  item["multi"] = false;
  return item;
}

/// Upsert of a live key value at version v.
inline ojson value_item(const std::string& sid, const std::string& field,
                        int64_t v, const std::string& json) {
  ojson q = ojson::object();
  q["_id"] = key_id(sid, field);
  q["v"] = older_than(v);
  ojson set = ojson::object();
  set["v"] = i64(v);
  set["val"] = json;
  ojson unset = ojson::object();
  unset["del"] = "";
  return upsert_item(std::move(q), std::move(set), std::move(unset));
}

/// Upsert of a tombstone at version v.
inline ojson tombstone_item(const std::string& sid, const std::string& field,
                            int64_t v) {
  ojson q = ojson::object();
  q["_id"] = key_id(sid, field);
  q["v"] = older_than(v);
  ojson set = ojson::object();
  set["v"] = i64(v);
  set["del"] = true;
  ojson unset = ojson::object();
  unset["val"] = "";
  return upsert_item(std::move(q), std::move(set), std::move(unset));
}

/// Upsert of the session watermark at version v.
inline ojson watermark_item(const std::string& sid, int64_t v) {
  ojson q = ojson::object();
  q["_id"] = sid;
  q["v"] = older_than(v);
  ojson set = ojson::object();
  set["v"] = i64(v);
  return upsert_item(std::move(q), std::move(set), ojson());
}

/// The erase mark of a versioned erase at d: an unguarded upsert on _id
/// with {$max: {v: d, dv: d}}.
inline ojson erase_mark_item(const std::string& sid, int64_t d) {
  ojson q = ojson::object();
  q["_id"] = sid;
  ojson max = ojson::object();
  max["v"] = i64(d);
  max["dv"] = i64(d);
  ojson u = ojson::object();
  u["$max"] = std::move(max);
  ojson item = ojson::object();
  item["q"] = std::move(q);
  item["u"] = std::move(u);
  item["upsert"] = true;
  item["multi"] = false;
  return item;
}

/// The filter of a versioned erase's key delete: {"_id.s": sid, v: {$lte:
/// d}}.
inline ojson erased_keys(const std::string& sid, int64_t d) {
  ojson q = ojson::object();
  q["_id.s"] = sid;
  q["v"] = ojson::object();
  q["v"]["$lte"] = i64(d);
  return q;
}

/// A delete command on `coll` with one item (limit 1: one doc, 0: all).
inline ojson delete_command(const std::string& coll, ojson q, int32_t limit) {
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

/// The unconditional erase's first step: delete the session doc by _id.
inline ojson delete_session(const std::string& sid) {
  ojson by_id = ojson::object();
  by_id["_id"] = sid;
  return delete_command("sessions", std::move(by_id), 1);
}

/// The unconditional erase's second step: delete every key doc of sid.
inline ojson delete_all_keys(const std::string& sid) {
  ojson by_session = ojson::object();
  by_session["_id.s"] = sid;
  return delete_command("keys", std::move(by_session), 0);
}

/// The whole unordered update command on `coll`.
inline ojson update_command(const std::string& coll, ojson items,
                            ojson wc = majority_journaled()) {
  ojson cmd = ojson::object();
  cmd["update"] = coll;
  cmd["ordered"] = false;
  cmd["$db"] = "authstore";
  cmd["writeConcern"] = std::move(wc);
  cmd["updates"] = std::move(items);
  return cmd;
}

/// A plan for mock_mongod from its steps.
inline ojson plan(std::vector<ojson> steps) {
  ojson p = ojson::object();
  p["steps"] = std::move(steps);
  return p;
}

/// Step: answer with `doc`.
inline ojson answer(ojson doc) {
  ojson step = ojson::object();
  step["reply"] = std::move(doc);
  return step;
}

/// Step: close the connection without answering.
inline ojson hang_up() {
  return ojson::parse(R"({"hangup": true})");
}

/// Step: never answer.
inline ojson stay_silent() {
  return ojson::parse(R"({"silence": true})");
}

/// Reply to a write command that applied `n` items.
inline ojson writes_ok(int n) {
  ojson r = ojson::object();
  r["ok"] = 1;
  r["n"] = n;
  return r;
}

/// Reply to a write command whose items `indices` failed with `code`.
inline ojson write_errors(const std::vector<int>& indices, int code) {
  ojson r = ojson::object();
  r["ok"] = 1;
  r["n"] = 0;
  r["writeErrors"] = ojson::array();
  for (int i : indices) {
    ojson e = ojson::object();
    e["index"] = i;
    e["code"] = code;
    e["errmsg"] = code == 11000 ? "E11000 duplicate key error" : "refused";
    r["writeErrors"].push_back(e);
  }
  return r;
}

/// Reply {ok: 0, code} to any command.
inline ojson command_failed(int code) {
  ojson r = ojson::object();
  r["ok"] = 0;
  r["code"] = code;
  r["errmsg"] = "mock: command failed";
  return r;
}

/// Reply to a find on `coll` with all of `docs` in one batch.
inline ojson cursor_of(const std::string& coll, std::vector<ojson> docs) {
  ojson cursor = ojson::object();
  cursor["id"] = i64(0);
  cursor["ns"] = "authstore." + coll;
  cursor["firstBatch"] = std::move(docs);
  ojson r = ojson::object();
  r["ok"] = 1;
  r["cursor"] = std::move(cursor);
  return r;
}

/// The documents of the received commands, without the record envelope.
inline std::vector<ojson> commands_of(const mock_mongod& mock) {
  std::vector<ojson> docs;
  for (const auto& r : mock.received())
    docs.push_back(r["doc"]);
  return docs;
}

/// Milliseconds since `start`.
inline long long elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - start)
    .count();
}

} // namespace authstore::test
