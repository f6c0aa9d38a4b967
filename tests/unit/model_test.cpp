// Tests of messages/model.hpp: field names, key types, patch validation.
#include "messages/model.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace model_test {

using namespace authstore;

TEST_CASE("Baileys v7 has ten key types and all are valid", "[model]") {
  REQUIRE(baileys_key_types.size() == 10);
  for (const auto& t : baileys_key_types)
    CHECK(validate_key_type(t));
}

TEST_CASE("an unknown future key type passes validation untouched", "[model]") {
  CHECK(validate_key_type("future-type.v2"));
  patch p;
  p.set_key("future-type.v2", "1", "{}");
  CHECK(validate_patch(p, {}));
  CHECK(p.writes[0].field == "k:future-type.v2/1");
}

TEST_CASE("key types may not contain '/' so field names split unambiguously",
          "[model]") {
  CHECK_FALSE(validate_key_type("a/b"));
  CHECK_FALSE(validate_key_type(""));
  CHECK_FALSE(validate_key_type(std::string(65, 'a')));
  CHECK(validate_key_type(std::string(64, 'a')));
}

TEST_CASE("key ids with dots, dollars and slashes are kept as they are",
          "[model]") {
  CHECK(key_field_name("sender-key", "120@g.us::55.0/x$y")
        == "k:sender-key/120@g.us::55.0/x$y");
  CHECK(validate_key_id("120@g.us::55.0/x$y"));
  CHECK_FALSE(validate_key_id(""));
  CHECK_FALSE(validate_key_id(std::string("a\0b", 3)));
  CHECK(validate_key_id(std::string(256, 'x')));
  CHECK_FALSE(validate_key_id(std::string(257, 'x')));
}

TEST_CASE("a patch carries creds and keys of several types, upserts and "
          "deletes",
          "[model]") {
  patch p;
  p.set_creds("me", R"({"id":"x"})");
  p.erase_creds("pairingCode");
  p.set_key("pre-key", "1", "{}");
  p.erase_key("pre-key", "2");
  p.set_key("session", "55.0", "{}");
  REQUIRE(p.writes.size() == 5);
  CHECK(p.writes[0] == field_write{"c:me", false, R"({"id":"x"})"});
  CHECK(p.writes[1] == field_write{"c:pairingCode", true, ""});
  CHECK(p.writes[3] == field_write{"k:pre-key/2", true, ""});
  CHECK(validate_patch(p, {}));
}

TEST_CASE("patch limits hold at N and fail at N+1", "[model]") {
  patch_limits b;
  b.value.max_value_bytes = 10;
  b.max_writes = 2;
  b.max_patch_bytes = 100;
  patch p;
  p.set_key("t", "1", std::string(10, '1'));
  CHECK(validate_patch(p, b));
  p.writes[0].value += '1';
  auto big = validate_patch(p, b);
  REQUIRE_FALSE(big);
  CHECK(big.error().code == errc::value_too_large);
  patch q;
  q.set_key("t", "1", "1");
  q.set_key("t", "2", "2");
  CHECK(validate_patch(q, b));
  q.set_key("t", "3", "3");
  auto many = validate_patch(q, b);
  REQUIRE_FALSE(many);
  CHECK(many.error().code == errc::too_many_fields);
  patch r;
  b.max_writes = 100;
  b.max_patch_bytes = 20; // "k:t/1" (5) + 10 = 15 per write
  r.set_key("t", "1", std::string(10, 'x'));
  CHECK(validate_patch(r, b));
  r.set_key("t", "2", std::string(10, 'x'));
  auto total = validate_patch(r, b);
  REQUIRE_FALSE(total);
  CHECK(total.error().code == errc::value_too_large);
}

TEST_CASE("malformed field names and empty upserts are rejected", "[model]") {
  for (field_write w :
       {field_write{"x:me", false, "1"}, field_write{"k:nosl", false, "1"},
        field_write{"k:/id", false, "1"}, field_write{"c:", false, "1"},
        field_write{"c:me", false, ""}, field_write{"", true, ""}}) {
    patch p;
    p.writes.push_back(w);
    INFO(w.field);
    auto r = validate_patch(p, {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
  }
}

TEST_CASE("issue #17 - a creds field name must be UTF-8 text, or no read of "
          "the creds could succeed",
          "[model][issue-17]") {
  // Every read assembles the creds document (JSON) from the names; a name
  // that is not UTF-8 would make each one fail. Key ids are not JSON keys
  // of a stored document and stay any bytes but NUL.
  CHECK(validate_creds_field("caf\xc3\xa9"));
  CHECK(validate_creds_field("\xf0\x9f\x98\x80"));
  for (std::string bad : {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80"}) {
    auto r = validate_creds_field(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::invalid_argument);
    patch p;
    p.set_creds(bad, "1");
    CHECK_FALSE(validate_patch(p, {}));
  }
  CHECK(validate_key_id("\xff\xfe"));
}

TEST_CASE("field names are built and read back by the same prefix rule",
          "[model]") {
  auto c = creds_field_name("me");
  CHECK(c == "c:me");
  CHECK(is_creds_field(c));
  CHECK_FALSE(is_key_field(c));
  CHECK(field_subject(c) == "me");
  std::string_view type, id;
  CHECK_FALSE(split_key_field(c, type, id));
  // Every known key type, with ids holding dots, colons and slashes: the
  // first '/' after the prefix splits (types never contain one).
  for (const auto& t : baileys_key_types)
    for (std::string_view i : {"1", "123@s.whatsapp.net::0", "a/b", "/"}) {
      auto k = key_field_name(t, i);
      CAPTURE(k);
      CHECK(is_key_field(k));
      CHECK_FALSE(is_creds_field(k));
      CHECK(field_subject(k) == t + "/" + std::string{i});
      REQUIRE(split_key_field(k, type, id));
      CHECK(type == t);
      CHECK(id == i);
    }
}

TEST_CASE("strings that are not field names have no subject", "[model]") {
  std::string_view type, id;
  for (std::string_view x : {"", "c", "k", "x:me", "C:me", "!erase", "!v"}) {
    CAPTURE(x);
    CHECK_FALSE(is_creds_field(x));
    CHECK_FALSE(is_key_field(x));
    CHECK(field_subject(x).empty());
    CHECK_FALSE(split_key_field(x, type, id));
  }
  CHECK_FALSE(split_key_field("k:no-slash", type, id));
  CHECK(is_creds_field("c:"));
  CHECK(field_subject("c:").empty());
}

} // namespace model_test
