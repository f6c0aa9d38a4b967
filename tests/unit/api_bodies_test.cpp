// Tests of runtime/http/api_bodies.hpp: write bodies (patch, the three
// Buffer forms, expected_version, lease), id lists, and the reply bodies
// spliced from stored JSON.
#include "runtime/http/api_bodies.hpp"

#include <catch2/catch.hpp>

#include "messages/interfaces.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace api_bodies_test {

using namespace authstore;

namespace {

patch_limits limits() {
  return patch_limits{};
}

const api_error& error_of(const api_parsed<patch>& p) {
  REQUIRE(std::holds_alternative<api_error>(p));
  return std::get<api_error>(p);
}

} // namespace

TEST_CASE("a write body is the patch JSON plus expected_version; values are "
          "normalized",
          "[http][bodies]") {
  auto p = parse_write_body(
    R"({"creds":{"me":{"type":"Buffer","data":[1,2,3]},"gone":null},)"
    R"("keys":{"pre-key":{"1":{"0":1,"1":2}}},)"
    R"("expected_version":7})",
    limits());
  REQUIRE(std::holds_alternative<patch>(p));
  auto& x = std::get<patch>(p);
  CHECK(x.expected_version == 7);
  REQUIRE(x.writes.size() == 3);
  CHECK(x.writes[0]
        == field_write{"c:me", false, R"({"type":"Buffer","data":"AQID"})"});
  CHECK(x.writes[1].erase);
  CHECK(x.writes[2].field == "k:pre-key/1");
  CHECK(x.writes[2].value == R"({"type":"Buffer","data":"AQI="})");
  auto any = parse_write_body(R"({"creds":{"a":1}})", limits());
  CHECK(std::get<patch>(any).expected_version == any_version);
  auto zero = parse_write_body(R"({"expected_version":0})", limits());
  CHECK(std::get<patch>(zero).expected_version == 0);
  CHECK(std::get<patch>(zero).writes.empty());
  auto null = parse_write_body(R"({"expected_version":null})", limits());
  CHECK(std::get<patch>(null).expected_version == any_version);
  CHECK_FALSE(std::get<patch>(null).lease.present());
  auto leased = parse_write_body(
    R"({"creds":{"a":1},"lease":{"holder":"h-1","epoch":3}})", limits());
  REQUIRE(std::holds_alternative<patch>(leased));
  CHECK(std::get<patch>(leased).lease == lease_token{"h-1", 3});
  CHECK(std::get<patch>(leased).writes.size() == 1);
}

TEST_CASE("lease bodies: take, release, and the optional delete body",
          "[http][bodies][lease]") {
  auto take
    = parse_lease_body(R"({"holder":"h","ttl_ms":500,"takeover":true})");
  REQUIRE(std::holds_alternative<lease_request>(take));
  CHECK(std::get<lease_request>(take) == lease_request{"h", 500, true});
  auto dflt = parse_lease_body(R"({"holder":"h"})");
  CHECK(std::get<lease_request>(dflt) == lease_request{"h", 30000, false});
  for (const char* bad : {"{}", R"({"holder":1})", R"({"holder":"h","x":1})",
                          R"({"holder":"h","ttl_ms":"1"})", "[]", "nope"}) {
    INFO(bad);
    auto r = parse_lease_body(bad);
    REQUIRE(std::holds_alternative<api_error>(r));
    CHECK(std::get<api_error>(r).status == 400);
  }
  CHECK(std::get<std::string>(parse_release_body(R"({"holder":"h"})")) == "h");
  CHECK(std::holds_alternative<api_error>(parse_release_body("{}")));
  CHECK_FALSE(std::get<lease_token>(parse_delete_body("")).present());
  CHECK_FALSE(std::get<lease_token>(parse_delete_body("{}")).present());
  CHECK(std::get<lease_token>(
          parse_delete_body(R"({"lease":{"holder":"h","epoch":2}})"))
        == lease_token{"h", 2});
  CHECK(std::holds_alternative<api_error>(parse_delete_body(R"({"x":1})")));
}

TEST_CASE("a bad write body is refused with its token", "[http][bodies]") {
  struct row {
    std::string body;
    int status;
    const char* token;
  };
  const row rows[] = {
    {"", 400, "bad_json"},
    {"{", 400, "bad_json"},
    {"{\"creds\":{}} trailing", 400, "bad_json"},
    {"null", 400, "invalid_argument"},
    {"[]", 400, "invalid_argument"},
    {R"({"lease":{"holder":"h"}})", 400, "invalid_argument"},
    {R"({"lease":{"holder":"h","epoch":-1}})", 400, "invalid_argument"},
    {R"({"lease":{"holder":"h{}","epoch":1}})", 400, "invalid_argument"},
    {R"({"lease":{"holder":"h","epoch":1,"x":1}})", 400, "invalid_argument"},
    {R"({"expected_version":-1})", 400, "invalid_argument"},
    {R"({"expected_version":1.5})", 400, "invalid_argument"},
    {R"({"expected_version":"1"})", 400, "invalid_argument"},
    {R"({"expected_version":18446744073709551615})", 400, "invalid_argument"},
    {R"({"other":{}})", 400, "invalid_argument"},
    {R"({"creds":{"a":{"type":"Buffer","data":"%%%"}}})", 400,
     "invalid_buffer"},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    auto p = parse_write_body(r.body, limits());
    const auto& e = error_of(p);
    CHECK(e.status == r.status);
    CHECK(e.token == r.token);
    CHECK_FALSE(e.may_have_applied);
  }
  auto small = limits();
  small.value.max_depth = 2;
  CHECK(error_of(parse_write_body(R"({"creds":{"a":[[[1]]]}})", small)).token
        == "too_deep");
  small = limits();
  small.max_patch_bytes = 64;
  CHECK(error_of(parse_write_body(
                   R"({"creds":{"a":")" + std::string(64, 'x') + "\"}}", small))
          .token
        == "value_too_large");
}

TEST_CASE("id lists are strings under their one member", "[http][bodies]") {
  auto ok = parse_string_list(R"({"ids":["1","b@c",""]})", "ids", limits());
  REQUIRE(std::holds_alternative<std::vector<std::string>>(ok));
  CHECK(std::get<std::vector<std::string>>(ok)
        == std::vector<std::string>{"1", "b@c", ""});
  auto empty = parse_string_list(R"({"sessions":[]})", "sessions", limits());
  CHECK(std::get<std::vector<std::string>>(empty).empty());
  for (auto body : {R"({"ids":[1]})", R"({"ids":"1"})", R"({})",
                    R"({"ids":[],"x":1})", R"({"sessions":[]})", "[]"}) {
    INFO(body);
    auto bad = parse_string_list(body, "ids", limits());
    REQUIRE(std::holds_alternative<api_error>(bad));
    CHECK(std::get<api_error>(bad).token == "invalid_argument");
  }
  auto nested = parse_string_list(R"({"ids":[["1"]]})", "ids", limits());
  CHECK(std::get<api_error>(nested).status == 400);
  CHECK(std::get<api_error>(parse_string_list("{", "ids", limits())).token
        == "bad_json");
}

TEST_CASE("replies splice the stored JSON; a read of nothing is 404 "
          "not_found",
          "[http][bodies][invariant-4]") {
  creds_reply c;
  c.found = true;
  c.version = 12;
  c.creds_json = R"({"me":{"type":"Buffer","data":"AQID"}})";
  auto r = creds_reply_of(c);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)
        == json::parse(
          R"({"version":12,"creds":{"me":{"type":"Buffer","data":"AQID"}}})"));
  auto missing = creds_reply_of(creds_reply{});
  CHECK(missing.status == 404);
  CHECK(json::parse(missing.body)["error"] == "not_found");
  keys_reply k;
  k.version = 3;
  k.values = {{"1", "{\"a\":1}"}, {"q\"uote", "2"}};
  CHECK(json::parse(keys_reply_of(k).body)
        == json::parse(R"({"version":3,"keys":{"1":{"a":1},"q\"uote":2}})"));
  CHECK(keys_reply_of(keys_reply{}).body == "{\"version\":0,\"keys\":{}}\n");
  CHECK(version_reply_of(9).body == "{\"version\":9}\n");
  CHECK(flag_reply_of("existed", false).body == "{\"existed\":false}\n");
}

TEST_CASE("a batch reply has one entry per session, in order",
          "[http][bodies]") {
  std::vector<session_result> rs(3);
  rs[0].session_id = "a";
  rs[0].creds = creds_reply{true, 4, R"({"x":1})"};
  rs[1].session_id = "b";
  rs[2].session_id = "c";
  rs[2].error = static_cast<uint8_t>(errc::hot_unavailable);
  rs[2].detail = "redis down";
  auto r = batch_reply_of(rs);
  CHECK(r.status == 200);
  CHECK(json::parse(r.body) == json::parse(R"({"results":[
    {"session":"a","version":4,"creds":{"x":1}},
    {"session":"b","found":false},
    {"session":"c","error":"hot_unavailable","message":"redis down"}]})"));
  CHECK(json::parse(batch_reply_of(std::vector<session_result>{}).body)
        == json::parse(R"({"results":[]})"));
}

} // namespace api_bodies_test
