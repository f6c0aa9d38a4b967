// Tests of messages/patch_json.hpp: the JSON form of a patch.
#include "messages/patch_json.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace patch_json_test {

using namespace authstore;

namespace {

patch must_parse(std::string_view text) {
  auto p = parse_patch(text, {});
  INFO(text);
  REQUIRE(p);
  return *p;
}

errc must_fail(std::string_view text, const patch_limits& limits = {}) {
  auto p = parse_patch(text, limits);
  INFO(text);
  REQUIRE_FALSE(p);
  return p.error().code;
}

} // namespace

TEST_CASE("a patch mirrors Baileys: creds merge fields, keys upsert or "
          "delete by type and id",
          "[patch]") {
  auto p = must_parse(R"({"creds":{"registered":true,"pairingCode":null},
    "keys":{"pre-key":{"1":{"k":1},"2":null},"session":{"55.0":"abc"}}})");
  REQUIRE(p.writes.size() == 5);
  CHECK(p.writes[0] == field_write{"c:registered", false, "true"});
  CHECK(p.writes[1] == field_write{"c:pairingCode", true, ""});
  CHECK(p.writes[2] == field_write{"k:pre-key/1", false, R"({"k":1})"});
  CHECK(p.writes[3] == field_write{"k:pre-key/2", true, ""});
  CHECK(p.writes[4] == field_write{"k:session/55.0", false, R"("abc")"});
}

TEST_CASE("both parts of a patch are optional", "[patch]") {
  CHECK(must_parse("{}").writes.empty());
  CHECK(must_parse(R"({"creds":{}})").writes.empty());
  CHECK(must_parse(R"({"keys":{"pre-key":{}}})").writes.empty());
}

TEST_CASE("values in a patch come out in the v7 Buffer form", "[patch]") {
  auto p = must_parse(
    R"({"keys":{"pre-key":{"1":{"public":{"type":"Buffer","data":[1,2,3]}}}}})");
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].value == R"({"public":{"type":"Buffer","data":"AQID"}})");
}

TEST_CASE("unknown key types pass through", "[patch]") {
  auto p = must_parse(R"({"keys":{"brand-new-type":{"x":1}}})");
  REQUIRE(p.writes.size() == 1);
  CHECK(p.writes[0].field == "k:brand-new-type/x");
}

TEST_CASE("a malformed patch is rejected whole", "[patch]") {
  CHECK(must_fail("not json") == errc::invalid_argument);
  CHECK(must_fail("[]") == errc::invalid_argument);
  CHECK(must_fail(R"({"creds":[]})") == errc::invalid_argument);
  CHECK(must_fail(R"({"keys":{"pre-key":[1]}})") == errc::invalid_argument);
  CHECK(must_fail(R"({"other":{}})") == errc::invalid_argument);
  CHECK(must_fail(R"({"keys":{"a/b":{"1":1}}})") == errc::invalid_argument);
  CHECK(must_fail(R"({"keys":{"pre-key":{"":1}}})") == errc::invalid_argument);
  // One bad Buffer anywhere rejects everything, including the good parts.
  CHECK(must_fail(R"({"creds":{"ok":1},"keys":{"t":{"1":
    {"type":"Buffer","data":[1,256]}}}})")
        == errc::invalid_buffer);
}

TEST_CASE("patch limits: value size, whole size, number of writes", "[patch]") {
  patch_limits limits;
  limits.value.max_value_bytes = 8;
  CHECK(parse_patch(R"({"creds":{"a":"123456"}})", limits)); // "123456" = 8
  CHECK(must_fail(R"({"creds":{"a":"1234567"}})", limits)
        == errc::value_too_large);
  patch_limits writes;
  writes.max_writes = 2;
  CHECK(parse_patch(R"({"creds":{"a":1,"b":2}})", writes));
  CHECK(must_fail(R"({"creds":{"a":1,"b":2,"c":3}})", writes)
        == errc::too_many_fields);
  patch_limits whole;
  whole.max_patch_bytes = 20;
  CHECK(must_fail(R"({"creds":{"a":"0123456789"}})", whole)
        == errc::value_too_large);
}

TEST_CASE("creds_document assembles creds fields without re-encoding",
          "[patch]") {
  std::vector<field_write> fields = {{"c:me", false, R"({"id":"x"})"},
                                     {"k:pre-key/1", false, "{}"},
                                     {"c:gone", true, ""},
                                     {"c:n", false, "5"}};
  CHECK(creds_document(fields) == R"({"me":{"id":"x"},"n":5})");
  CHECK(creds_document({}) == "{}");
}

} // namespace patch_json_test
