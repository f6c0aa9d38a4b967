// cold_store_contract.hpp -- the cases every cold-store backend must pass,
// written once, run against each backend by its own test file.
//
// Why: mongo_store and pg_store promise the same semantics (versioned
// upserts that never regress, deletes that are never resurrected, loads
// that report a version covering what they return, erase, empty patches
// moving the watermark, values byte for byte), and the only way to keep
// them the same is one set of cases. A backend's test file defines a
// fixture and expands the cases:
//
//   struct my_fixture {
//     my_fixture();          // a fresh, empty store (may REQUIRE/FAIL)
//     Store& store();        // persist and load as in messages/cold_store.hpp,
//   };                       //   mongo_store / pg_store
//   AUTHSTORE_COLD_STORE_CONTRACT(my_fixture, "postgres", "[postgres]")
//
// The second argument (a string literal) names the backend in every case
// name ("cold store contract (postgres): ..."), so one file can expand the
// cases for several fixtures. The third is an expression convertible to
// std::string that prefixes every case's tags (a suite that must not run
// without its server can pass "[.][...]"). Each case is a template
// function below, so a failure points at a line of this file with the
// fixture's type in the expansion.
//
// Needs: Catch2 (catch2/catch.hpp included before), the working directory
// at the repository root (tests/fixtures is read by relative path).
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "messages/model.hpp"

namespace authstore::contract {

inline field_write set(std::string field, std::string json) {
  return {std::move(field), false, std::move(json)};
}

inline field_write del(std::string field) {
  return {std::move(field), true, ""};
}

template <class Store>
session_snapshot load(Store& store, const std::string& sid) {
  auto r = store.load(sid);
  if (!r)
    FAIL("load failed: " << r.error().render());
  return *r;
}

template <class Store>
void persist(Store& store, const persist_request& req) {
  auto r = store.persist(req);
  if (!r)
    FAIL("persist at " << req.version << " failed: " << r.error().render());
  CHECK(*r == req.version);
}

/// A persist that deletes the session at `erase_version` and then writes
/// `fields` at `version` (an erase alone: no fields, version ==
/// erase_version).
inline persist_request erase_then(const std::string& sid, uint64_t version,
                                  uint64_t erase_version,
                                  std::vector<field_write> fields = {}) {
  persist_request req{sid, version, std::move(fields)};
  req.erase = true;
  req.erase_version = erase_version;
  return req;
}

/// Every fixture file (tests/fixtures/{baileys-v7,baileys-numarray,js}), as
/// (file name, exact bytes), sorted by name.
inline std::vector<std::pair<std::string, std::string>> fixture_files() {
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* dir : {"baileys-v7", "baileys-numarray", "js"}) {
    for (const auto& e :
         fs::directory_iterator(fs::path("tests/fixtures") / dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      out.emplace_back(std::string(dir) + "/" + e.path().filename().string(),
                       buf.str());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// -- the cases ---------------------------------------------------------------

template <class F>
void persisted_session_loads_back() {
  F fx;
  auto& s = fx.store();
  const std::string tricky = "k:sender-key/grp.1$x/y::0";
  persist(s, {"s1",
              5,
              {set("c:me", R"({"id":"1"})"), set(tricky, "[1,2]"),
               set("k:pre-key/1", "\"a\"")}});
  CHECK(
    load(s, "s1")
    == session_snapshot{true,
                        5,
                        {set("c:me", R"({"id":"1"})"),
                         set("k:pre-key/1", "\"a\""), set(tricky, "[1,2]")}});
}

template <class F>
void missing_session_is_a_successful_empty_read() {
  F fx;
  CHECK(load(fx.store(), "nobody") == session_snapshot{});
}

template <class F>
void same_request_twice_changes_nothing() {
  F fx;
  auto& s = fx.store();
  persist_request req{"s1", 5, {set("c:me", "1"), del("k:pre-key/1")}};
  persist(s, req);
  auto before = load(s, "s1");
  persist(s, req);
  CHECK(load(s, "s1") == before);
  CHECK(before == session_snapshot{true, 5, {set("c:me", "1")}});
}

template <class F>
void older_persist_never_overwrites_newer() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 9, {set("c:me", "\"new\"")}});
  persist(s, {"s1", 4, {set("c:me", "\"old\""), set("c:other", "\"late\"")}});
  // The watermark did not go back; the field nobody wrote later did land.
  CHECK(load(s, "s1")
        == session_snapshot{
          true, 9, {set("c:me", "\"new\""), set("c:other", "\"late\"")}});
}

template <class F>
void deleted_key_not_resurrected_by_older_write() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 5, {set("k:pre-key/1", "\"x\"")}});
  persist(s, {"s1", 7, {del("k:pre-key/1")}});
  persist(s, {"s1", 6, {set("k:pre-key/1", "\"y\"")}});
  CHECK(load(s, "s1") == session_snapshot{true, 7, {}});
  persist(s, {"s1", 8, {set("k:pre-key/1", "\"z\"")}}); // newer: it is back
  CHECK(load(s, "s1")
        == session_snapshot{true, 8, {set("k:pre-key/1", "\"z\"")}});
}

template <class F>
void any_order_stores_the_newest_state() {
  F fx;
  auto& s = fx.store();
  const std::vector<persist_request> versions = {
    {"", 1, {set("c:me", "1"), set("k:pre-key/1", "1")}},
    {"", 2, {del("k:pre-key/1"), set("c:me", "2")}},
    {"", 3, {set("c:me", "3")}},
  };
  std::vector<int> order = {0, 1, 2};
  int run = 0;
  do {
    std::string sid = "perm" + std::to_string(run++);
    for (int i : order) {
      auto req = versions[static_cast<size_t>(i)];
      req.session_id = sid;
      persist(s, req);
    }
    INFO("order " << order[0] << order[1] << order[2]);
    CHECK(load(s, sid) == session_snapshot{true, 3, {set("c:me", "3")}});
  } while (std::next_permutation(order.begin(), order.end()));
  CHECK(run == 6);
}

template <class F>
void erase_removes_for_good_and_only_by_request() {
  // A delete reaches the cold store as a persist carrying an erase mark at
  // the delete's version D (there is no separate erase operation).
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 3, {set("c:me", "1"), del("k:x/1")}});
  persist(s, {"s2", 3, {set("c:me", "2")}});
  persist(s, erase_then("s1", 4, 4));
  CHECK(load(s, "s1") == session_snapshot{false, 4, {}});
  persist(s, erase_then("s1", 4, 4)); // the same delete again: no change
  CHECK(load(s, "s1") == session_snapshot{false, 4, {}});
  CHECK(load(s, "s2") == session_snapshot{true, 3, {set("c:me", "2")}});
}

template <class F>
void deleted_session_not_resurrected_by_late_persist() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 3, {set("c:me", "1"), set("k:pre-key/1", "\"a\"")}});
  persist(s, erase_then("s1", 5, 5));
  CHECK(load(s, "s1") == session_snapshot{false, 5, {}});
  // Read from Redis before the delete, arriving after it: at V < D and at
  // V == D. Both succeed ("already newer") and change nothing visible.
  persist(s, {"s1", 4, {set("c:me", "\"late\""), set("k:pre-key/2", "\"b\"")}});
  persist(s, {"s1", 5, {set("k:pre-key/3", "\"c\"")}});
  CHECK(load(s, "s1") == session_snapshot{false, 5, {}});
}

template <class F>
void recreated_session_loads_only_new_fields() {
  F fx;
  auto& s = fx.store();
  persist(
    s, {"s1",
        3,
        {set("c:me", "\"old\""), set("k:pre-key/1", "1"), del("k:pre-key/2")}});
  persist(s,
          erase_then("s1", 6, 5, {set("c:me", "\"new\""), set("k:x/1", "2")}));
  CHECK(
    load(s, "s1")
    == session_snapshot{true, 6, {set("c:me", "\"new\""), set("k:x/1", "2")}});
  persist(s, {"s1", 4, {set("k:pre-key/1", "\"late\"")}});
  persist(s, {"s1", 7, {set("k:pre-key/9", "9")}});
  CHECK(load(s, "s1")
        == session_snapshot{true,
                            7,
                            {set("c:me", "\"new\""), set("k:pre-key/9", "9"),
                             set("k:x/1", "2")}});
}

template <class F>
void versioned_erase_idempotent_never_undoes_newer() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 3, {set("c:me", "1")}});
  persist(s, erase_then("s1", 5, 5));
  auto once = load(s, "s1");
  CHECK(once == session_snapshot{false, 5, {}});
  persist(s, erase_then("s1", 5, 5)); // repeated
  persist(s, erase_then("s1", 4, 4)); // older, late
  CHECK(load(s, "s1") == once);
  persist(s, erase_then("s9", 2, 2)); // a session never stored: its mark
  CHECK(load(s, "s9") == session_snapshot{false, 2, {}});
  persist(s, {"s1", 6, {set("c:me", "2")}});
  persist(s, erase_then("s1", 5, 5)); // replayed after a newer write
  CHECK(load(s, "s1") == session_snapshot{true, 6, {set("c:me", "2")}});
}

template <class F>
void erase_at_version_zero_removes_everything() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 3, {set("c:me", "1"), del("k:x/1")}});
  persist(s, erase_then("s1", 0, 0));
  CHECK(load(s, "s1") == session_snapshot{});
  persist(s, erase_then("s1", 0, 0)); // idempotent
  CHECK(load(s, "s1") == session_snapshot{});
}

template <class F>
void empty_patch_moves_the_watermark() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 2, {set("c:me", "1")}});
  persist(s, {"s1", 3, {}});
  CHECK(load(s, "s1") == session_snapshot{true, 3, {set("c:me", "1")}});
  persist(s, {"s1", 2, {}}); // late: nothing moves back
  CHECK(load(s, "s1").version == 3);
  persist(s, {"s2", 1, {}}); // a session of empty patches exists
  CHECK(load(s, "s2") == session_snapshot{true, 1, {}});
}

template <class F>
void fixtures_read_back_byte_for_byte() {
  F fx;
  auto& s = fx.store();
  auto files = fixture_files();
  REQUIRE(files.size() >= 40);
  persist_request req{"fixtures", 1, {}};
  for (const auto& [name, bytes] : files)
    req.fields.push_back(set("k:fixture/" + name, bytes));
  persist(s, req);
  auto snap = load(s, "fixtures");
  REQUIRE(snap.fields.size() == files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    INFO(files[i].first);
    CHECK(snap.fields[i].field == "k:fixture/" + files[i].first);
    CHECK(snap.fields[i].value == files[i].second); // exact bytes
  }
}

template <class F>
void invalid_requests_are_refused_before_anything_is_sent() {
  F fx;
  auto& s = fx.store();
  persist(s, {"s1", 2, {set("c:me", "1")}});
  const std::vector<persist_request> bad = {
    {"s1", 0, {set("c:me", "x")}},                 // version 0 with fields
    {"s1", uint64_t{1} << 63, {set("c:me", "x")}}, // above INT64_MAX
    erase_then("s1", 4, 5),                        // erase above version
    erase_then("s1", 5, 5, {set("c:me", "x")}),    // fields at the erase
  };
  for (const auto& req : bad) {
    auto r = s.persist(req);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
  CHECK(load(s, "s1") == session_snapshot{true, 2, {set("c:me", "1")}});
}

} // namespace authstore::contract

#define AUTHSTORE_CONTRACT_CASE(F, B, TAGS, NAME, FN, INV)                     \
  TEST_CASE("cold store contract (" B "): " NAME, std::string(TAGS) + INV) {   \
    authstore::contract::FN<F>();                                              \
  }

/// Expands every contract case for fixture `F`, named after backend `B` (a
/// string literal), tagged TAGS + the invariant.
#define AUTHSTORE_COLD_STORE_CONTRACT(F, B, TAGS)                              \
  AUTHSTORE_CONTRACT_CASE(F, B, TAGS,                                          \
                          "a persisted session loads back exactly",            \
                          persisted_session_loads_back, "[invariant-1]")       \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "a session never stored is a successful empty read",           \
    missing_session_is_a_successful_empty_read, "[invariant-4]")               \
  AUTHSTORE_CONTRACT_CASE(F, B, TAGS,                                          \
                          "persisting the same request twice changes nothing", \
                          same_request_twice_changes_nothing, "[invariant-3]") \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "an older persist never overwrites a newer one",               \
    older_persist_never_overwrites_newer, "[invariant-3]")                     \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "a deleted key is never resurrected by an older write",        \
    deleted_key_not_resurrected_by_older_write, "[invariant-3]")               \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "any order of the same persists stores the newest state",      \
    any_order_stores_the_newest_state, "[invariant-3]")                        \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "erase removes a session for good, and only by request",       \
    erase_removes_for_good_and_only_by_request, "[invariant-6]")               \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "a deleted session is never resurrected by a late persist",    \
    deleted_session_not_resurrected_by_late_persist, "[invariant-3]")          \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS,                                                                \
    "a session re-created after a delete loads only the new fields",           \
    recreated_session_loads_only_new_fields, "[invariant-3]")                  \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS,                                                                \
    "a versioned erase is idempotent and never undoes a newer write",          \
    versioned_erase_idempotent_never_undoes_newer, "[invariant-3]")            \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "an erase at version 0 through persist removes everything",    \
    erase_at_version_zero_removes_everything, "[invariant-6]")                 \
  AUTHSTORE_CONTRACT_CASE(F, B, TAGS, "an empty patch moves the watermark",    \
                          empty_patch_moves_the_watermark, "[invariant-2]")    \
  AUTHSTORE_CONTRACT_CASE(F, B, TAGS,                                          \
                          "every Baileys fixture reads back byte for byte",    \
                          fixtures_read_back_byte_for_byte, "[invariant-1]")   \
  AUTHSTORE_CONTRACT_CASE(                                                     \
    F, B, TAGS, "invalid persists are refused before anything is sent",        \
    invalid_requests_are_refused_before_anything_is_sent, "[invariant-3]")
