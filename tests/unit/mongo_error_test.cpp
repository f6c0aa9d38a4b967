// The one translation of MongoDB failures (mongo/error.hpp): every libmongoc
// domain and server code the classifier knows, the codes it does not,
// duplicate key as its own kind, and how a failed bulk's reply is judged
// (network vs server vs write-concern errors). No server: the errors are
// built by hand, as libmongoc would fill them in.
#include "mongo/error.hpp"

#include <map>
#include <string>
#include <vector>

#include <mongoc/mongoc.h>

#include <catch2/catch.hpp>

#include "mongo/documents.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace mongo_error_test {

using namespace authstore;

namespace {

using k = mongo_error_kind;

bson_error_t error_of(uint32_t domain, uint32_t code, const char* text = "") {
  bson_error_t e{};
  e.domain = domain;
  e.code = code;
  bson_strncpy(e.message, text, sizeof e.message);
  return e;
}

/// Every server code the classifier knows, with its kind.
const std::map<uint32_t, mongo_error_kind> known_server_codes = {
  {11000, k::duplicate_key}, {11001, k::duplicate_key},
  {12582, k::duplicate_key}, {91, k::not_primary},
  {189, k::not_primary},     {10058, k::not_primary},
  {10107, k::not_primary},   {11600, k::not_primary},
  {11602, k::not_primary},   {13435, k::not_primary},
  {13436, k::not_primary},   {50, k::timeout},
  {64, k::timeout},          {89, k::timeout},
  {262, k::timeout},         {6, k::network},
  {7, k::network},           {9001, k::network},
};

/// A bulk reply's errors with write errors of `codes` at index 0, 1, ...
bulk_reply_errors write_errors(const std::vector<int64_t>& codes) {
  bulk_reply_errors r;
  r.has_write_errors = true;
  for (size_t i = 0; i < codes.size(); ++i)
    r.write_errors.push_back({true, static_cast<int64_t>(i), codes[i]});
  return r;
}

/// The error mongoc_bulk_operation_execute reports with write errors: the
/// first item's code in MONGOC_ERROR_SERVER (API version 2).
const bson_error_t item_failed = error_of(MONGOC_ERROR_SERVER, 11000);

} // namespace

TEST_CASE("classify reads domain and code, never the message") {
  struct row {
    uint32_t domain;
    uint32_t code;
    mongo_error_kind kind;
  };
  const row rows[] = {
    {0, 0, k::none},
    {MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET, k::network},
    {MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT, k::network},
    {MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION, k::network},
    {MONGOC_ERROR_SERVER_SELECTION, MONGOC_ERROR_SERVER_SELECTION_FAILURE,
     k::network},
    {MONGOC_ERROR_SERVER_SELECTION,
     MONGOC_ERROR_SERVER_SELECTION_BAD_WIRE_VERSION, k::other},
    {MONGOC_ERROR_SERVER, 11000, k::duplicate_key},
    {MONGOC_ERROR_SERVER, 11001, k::duplicate_key},
    {MONGOC_ERROR_SERVER, 12582, k::duplicate_key},
    {MONGOC_ERROR_SERVER, 10107, k::not_primary},
    {MONGOC_ERROR_SERVER, 13435, k::not_primary},
    {MONGOC_ERROR_SERVER, 13436, k::not_primary},
    {MONGOC_ERROR_SERVER, 11600, k::not_primary},
    {MONGOC_ERROR_SERVER, 11602, k::not_primary},
    {MONGOC_ERROR_SERVER, 189, k::not_primary},
    {MONGOC_ERROR_SERVER, 91, k::not_primary},
    {MONGOC_ERROR_SERVER, 10058, k::not_primary},
    {MONGOC_ERROR_WRITE_CONCERN, 11602, k::not_primary},
    {MONGOC_ERROR_SERVER, 50, k::timeout},
    {MONGOC_ERROR_SERVER, 262, k::timeout},
    {MONGOC_ERROR_WRITE_CONCERN, 64, k::timeout},
    {MONGOC_ERROR_SERVER, 6, k::network},
    {MONGOC_ERROR_SERVER, 7, k::network},
    {MONGOC_ERROR_SERVER, 9001, k::network},
    {MONGOC_ERROR_SERVER, 13, k::command_error},
    {MONGOC_ERROR_SERVER, 121, k::command_error},
    {MONGOC_ERROR_WRITE_CONCERN, 100, k::write_error},
    {MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_AUTHENTICATE, k::other},
    {MONGOC_ERROR_PROTOCOL, MONGOC_ERROR_PROTOCOL_INVALID_REPLY, k::other},
    {MONGOC_ERROR_BSON, MONGOC_ERROR_BSON_INVALID, k::other},
    // A server code in a legacy (API version 1) domain is not trusted.
    {MONGOC_ERROR_COLLECTION, 11000, k::other},
  };
  for (const auto& r : rows) {
    INFO("domain " << r.domain << " code " << r.code);
    CHECK(classify(error_of(r.domain, r.code)) == r.kind);
    // Text that lies about the error changes nothing.
    CHECK(classify(error_of(r.domain, r.code, "E11000 duplicate key error"))
          == r.kind);
  }
}

TEST_CASE("every known server code has its kind in both server domains") {
  for (const auto& [code, kind] : known_server_codes) {
    INFO("code " << code);
    CHECK(classify(error_of(MONGOC_ERROR_SERVER, code)) == kind);
    CHECK(classify(error_of(MONGOC_ERROR_WRITE_CONCERN, code)) == kind);
  }
}

TEST_CASE("an unknown server code is a refusal, never a transient kind") {
  // Exhaustive below 20000 (every code the classifier knows is below it),
  // then a few far beyond.
  std::vector<uint32_t> codes;
  for (uint32_t code = 0; code < 20000; ++code)
    if (known_server_codes.count(code) == 0)
      codes.push_back(code);
  for (uint32_t code : {uint32_t{50000}, uint32_t{1} << 31, UINT32_MAX})
    codes.push_back(code);
  std::vector<uint32_t> wrong;
  for (uint32_t code : codes)
    if (classify(error_of(MONGOC_ERROR_SERVER, code)) != k::command_error
        || classify(error_of(MONGOC_ERROR_WRITE_CONCERN, code))
             != k::write_error)
      wrong.push_back(code);
  CHECK(wrong.empty());
  CHECK(codes.size() > 19000);
}

TEST_CASE("every stream error is network, whatever its code") {
  for (uint32_t code = 0; code < 64; ++code) {
    INFO("code " << code);
    CHECK(classify(error_of(MONGOC_ERROR_STREAM, code)) == k::network);
  }
}

TEST_CASE("client-side and legacy domains are other, even with a server "
          "code") {
  for (uint32_t domain = 1; domain <= MONGOC_ERROR_POOL + 1; ++domain) {
    if (domain == MONGOC_ERROR_STREAM || domain == MONGOC_ERROR_SERVER
        || domain == MONGOC_ERROR_WRITE_CONCERN
        || domain == MONGOC_ERROR_SERVER_SELECTION)
      continue;
    for (uint32_t code : {uint32_t{1}, uint32_t{6}, uint32_t{64}, uint32_t{189},
                          uint32_t{11000}}) {
      INFO("domain " << domain << " code " << code);
      CHECK(classify(error_of(domain, code)) == k::other);
    }
  }
  // Domain 0 is "no error" only with code 0.
  CHECK(classify(error_of(0, 0)) == k::none);
  CHECK(classify(error_of(0, 11000)) == k::other);
}

TEST_CASE("every error kind has one token, one errc and one retry rule") {
  struct row {
    mongo_error_kind kind;
    const char* token;
    errc code;
    bool retryable;
  };
  const row rows[] = {
    {k::duplicate_key, "duplicate_key", errc::cold_error, false},
    {k::network, "network", errc::cold_unavailable, true},
    {k::timeout, "timeout", errc::timeout, false},
    {k::not_primary, "not_primary", errc::cold_unavailable, true},
    {k::write_error, "write_error", errc::cold_error, false},
    {k::command_error, "command_error", errc::cold_error, false},
    {k::other, "other", errc::cold_error, false},
  };
  for (const auto& r : rows) {
    INFO(r.token);
    CHECK(to_string(r.kind) == r.token);
    CHECK(to_errc(r.kind) == r.code);
    CHECK(is_retryable(r.kind) == r.retryable);
  }
  CHECK(to_string(k::none) == "none");
  CHECK_FALSE(is_retryable(k::none));
}

TEST_CASE("a failure's detail names operation, kind, codes and attempts, "
          "never the server's text",
          "[invariant-4]") {
  auto e = error_of(MONGOC_ERROR_SERVER, 11000,
                    "E11000 duplicate key error collection: authstore.keys "
                    "dup key: { _id: { s: \"s1\", f: \"c:me\" } }");
  mongo_status s = status_of(e);
  CHECK(s.kind == k::duplicate_key);
  CHECK(s.domain == MONGOC_ERROR_SERVER);
  CHECK(s.code == 11000);
  s.attempts = 2;
  auto f = to_failure("persist keys", s);
  CHECK(f.code == errc::cold_error);
  CHECK(f.detail
        == "persist keys: duplicate_key (mongoc domain "
             + std::to_string(MONGOC_ERROR_SERVER)
             + " code 11000) after 2 attempt(s)");
  CHECK(f.detail.find("s1") == std::string::npos);
  CHECK(f.detail.find("c:me") == std::string::npos);
  // Our own finding carries its note instead of codes.
  auto m = to_failure("load keys", malformed("key document without _id.f"));
  CHECK(m.code == errc::cold_error);
  CHECK(m.detail
        == "load keys: other (key document without _id.f) after 1 attempt(s)");
  // A network failure is cold_unavailable: retry later, not "not found".
  auto n = to_failure(
    "load session",
    status_of(error_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET)));
  CHECK(n.code == errc::cold_unavailable);
}

TEST_CASE("duplicate key is its own kind, also when a confirm round makes "
          "it final") {
  auto again = duplicate_key_again();
  CHECK(again.kind == k::duplicate_key);
  CHECK(again.code == 11000);
  CHECK_FALSE(again.ok());
  CHECK_FALSE(is_retryable(again.kind));
  CHECK(to_failure("erase mark", again).code == errc::cold_error);
}

// -- judging a failed bulk ----------------------------------------------------

TEST_CASE("a bulk whose failed items are all duplicate keys is ok, with "
          "their positions") {
  std::vector<size_t> dups{7}; // appended to, never cleared
  auto s
    = judge_bulk(item_failed, write_errors({11000, 11001, 12582}), 3, dups);
  CHECK(s.ok());
  CHECK(dups == std::vector<size_t>{7, 0, 1, 2});
}

TEST_CASE("one write error that is not a duplicate key fails the bulk as a "
          "write error, and no duplicate is reported") {
  std::vector<size_t> dups;
  auto reply = write_errors({11000, 121});
  auto s = judge_bulk(item_failed, reply, 2, dups);
  CHECK(s.kind == k::write_error);
  CHECK(s.code == 121);
  CHECK(s.domain == MONGOC_ERROR_SERVER);
  CHECK(dups.empty());
}

TEST_CASE("network, not primary, timeout and client-side errors win over "
          "the items of a bulk") {
  struct row {
    bson_error_t error;
    mongo_error_kind kind;
  };
  const row rows[] = {
    {error_of(MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_SOCKET), k::network},
    {error_of(MONGOC_ERROR_SERVER_SELECTION,
              MONGOC_ERROR_SERVER_SELECTION_FAILURE),
     k::network},
    {error_of(MONGOC_ERROR_SERVER, 10107), k::not_primary},
    {error_of(MONGOC_ERROR_SERVER, 50), k::timeout},
    {error_of(MONGOC_ERROR_CLIENT, MONGOC_ERROR_CLIENT_TOO_BIG), k::other},
  };
  for (const auto& r : rows) {
    INFO("domain " << r.error.domain << " code " << r.error.code);
    std::vector<size_t> dups;
    // The items say "all duplicates", which would be a success: a later
    // batch may not have been sent at all, so the call's error counts.
    auto reply = write_errors({11000});
    reply.has_write_concern_error = true;
    reply.write_concern_code_present = true;
    reply.write_concern_code = 64;
    auto s = judge_bulk(r.error, reply, 1, dups);
    CHECK(s.kind == r.kind);
    CHECK(dups.empty());
  }
}

TEST_CASE("a write concern error is judged by its own code, before the "
          "write errors") {
  struct row {
    int64_t code;
    mongo_error_kind kind;
  };
  const row rows[] = {{64, k::timeout},
                      {11602, k::not_primary},
                      {91, k::not_primary},
                      {100, k::write_error},
                      {79, k::write_error}};
  for (const auto& r : rows) {
    INFO("write concern code " << r.code);
    std::vector<size_t> dups;
    auto reply = write_errors({11000});
    reply.has_write_concern_error = true;
    reply.write_concern_code_present = true;
    reply.write_concern_code = r.code;
    // With write errors too, libmongoc reports the first write error as the
    // call's error; the write concern error is read from the reply.
    auto s = judge_bulk(item_failed, reply, 1, dups);
    CHECK(s.kind == r.kind);
    CHECK(s.domain == MONGOC_ERROR_WRITE_CONCERN);
    CHECK(s.code == static_cast<uint32_t>(r.code));
    CHECK(dups.empty());
  }
  std::vector<size_t> dups;
  bulk_reply_errors without_code;
  without_code.has_write_concern_error = true;
  auto s = judge_bulk(item_failed, without_code, 1, dups);
  CHECK(s.kind == k::other);
  REQUIRE(s.note != nullptr);
  CHECK(std::string{s.note} == "write concern error without code");
}

TEST_CASE("a bulk without item errors is judged by the call's error") {
  std::vector<size_t> dups;
  SECTION("no writeErrors: a command-level refusal") {
    auto s = judge_bulk(error_of(MONGOC_ERROR_SERVER, 13), bulk_reply_errors{},
                        1, dups);
    CHECK(s.kind == k::command_error);
    CHECK(s.code == 13);
  }
  SECTION("an empty writeErrors") {
    bulk_reply_errors empty;
    empty.has_write_errors = true;
    auto s = judge_bulk(error_of(MONGOC_ERROR_SERVER, 13), empty, 1, dups);
    CHECK(s.kind == k::command_error);
  }
  SECTION("a duplicate key at command level is not an item's") {
    // Only items can be "already newer"; the caller sees the kind.
    auto s = judge_bulk(item_failed, bulk_reply_errors{}, 1, dups);
    CHECK(s.kind == k::duplicate_key);
  }
  CHECK(dups.empty());
}

TEST_CASE("a write error without code or index, or outside the bulk, is "
          "malformed") {
  bulk_reply_errors reply;
  SECTION("incomplete") {
    reply = write_errors({11000, 11000});
    reply.write_errors[1].complete = false;
  }
  SECTION("index past the bulk") {
    reply = write_errors({11000});
    reply.write_errors[0].index = 1;
  }
  SECTION("negative index") {
    reply = write_errors({11000});
    reply.write_errors[0].index = -1;
  }
  std::vector<size_t> dups;
  auto s = judge_bulk(item_failed, reply, 1, dups);
  CHECK(s.kind == k::other);
  REQUIRE(s.note != nullptr);
  CHECK(std::string{s.note} == "write error without code or index");
  CHECK(dups.empty());
}

TEST_CASE("a bulk reply read from BSON is judged like the one built by "
          "hand") {
  // As libmongoc returns it from an unordered bulk (mongo/documents.cpp
  // reads it).
  bson_error_t json_error{};
  bson_t* reply = bson_new_from_json(
    reinterpret_cast<const uint8_t*>(R"({"nMatched": 0, "writeErrors": [
      {"index": 1, "code": 11000, "errmsg": "E11000 s1 c:me"},
      {"index": {"$numberLong": "0"}, "code": 11000, "errmsg": "E11000"}],
      "writeConcernErrors": []})"),
    -1, &json_error);
  REQUIRE(reply != nullptr);
  auto errors = read_bulk_errors(*reply);
  bson_destroy(reply);
  CHECK_FALSE(errors.has_write_concern_error);
  REQUIRE(errors.has_write_errors);
  REQUIRE(errors.write_errors.size() == 2);
  std::vector<size_t> dups;
  CHECK(judge_bulk(item_failed, errors, 2, dups).ok());
  CHECK(dups == std::vector<size_t>{1, 0});
}

} // namespace mongo_error_test
