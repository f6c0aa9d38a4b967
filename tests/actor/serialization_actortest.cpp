// Every message type of the protocol survives the binary serializer inside a
// type-erased caf::message -- the path BASP takes across the middleman, which
// only works for types registered by name (register_messages).
#include "messages/interfaces.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace serialization_actortest {

using namespace authstore;

namespace {

struct fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  fixture() {
    register_messages(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// Serializes `msg` and reads it back as a new message.
  caf::message round_trip(const caf::message& msg) {
    std::vector<char> buf;
    caf::binary_serializer sink{*sys, buf};
    auto copy = msg;
    REQUIRE_FALSE(sink(copy));
    caf::message out;
    caf::binary_deserializer source{*sys, buf};
    REQUIRE_FALSE(source(out));
    return out;
  }

  template <class T>
  void check_round_trip(const T& value) {
    caf::message out = round_trip(caf::make_message(value));
    REQUIRE(out.match_elements<T>());
    CHECK(out.get_as<T>(0) == value);
  }
};

patch sample_patch() {
  patch p;
  p.set_creds("me", R"({"id":"x@s.whatsapp.net"})");
  p.erase_creds("pairingCode");
  p.set_key("pre-key", "1", R"({"public":{"type":"Buffer","data":""}})");
  p.erase_key("session", "55.0");
  p.expected_version = 17;
  return p;
}

} // namespace

TEST_CASE_METHOD(fixture,
                 "every protocol struct round-trips through the "
                 "binary serializer",
                 "[serialization]") {
  check_round_trip(field_write{"k:t/1", false, std::string("\0\xff", 2)});
  check_round_trip(sample_patch());
  check_round_trip(patch{});
  check_round_trip(creds_reply{true, 9, R"({"a":1})"});
  check_round_trip(creds_reply{});
  check_round_trip(keys_reply{3, {{"1", "A"}, {"2", ""}}});
  check_round_trip(persist_request{"s", 4, sample_patch().writes});
  check_round_trip(session_snapshot{true, 5, {{"c:me", false, "1"}}});
  check_round_trip(redis_request{redis_script::apply_patch, 2, {"a", "b"}});
  check_round_trip(redis_reply{redis_reply::array, 0, "", {"1", ""}, {0, 1}});
  session_result r;
  r.session_id = "s";
  r.error = static_cast<uint8_t>(errc::timeout);
  r.detail = "late";
  r.creds = creds_reply{true, 1, "{}"};
  r.existed = true;
  auto out = round_trip(caf::make_message(std::vector<session_result>{r}));
  REQUIRE(out.match_elements<std::vector<session_result>>());
  const auto& v = out.get_as<std::vector<session_result>>(0);
  REQUIRE(v.size() == 1);
  CHECK(v[0].session_id == "s");
  CHECK(v[0].error == r.error);
  CHECK(v[0].creds == r.creds);
  CHECK(v[0].existed);
  auto stats = round_trip(caf::make_message(router_stats{1, 2, 3}));
  REQUIRE(stats.match_elements<router_stats>());
  CHECK(stats.get_as<router_stats>(0).passivations == 3);
}

TEST_CASE_METHOD(fixture, "whole requests of the session API round-trip",
                 "[serialization]") {
  auto msg
    = caf::make_message(set_atom::value, std::string{"sid-1"}, sample_patch());
  auto out = round_trip(msg);
  REQUIRE((out.match_elements<set_atom, std::string, patch>()));
  CHECK(out.get_as<patch>(2) == sample_patch());
  auto keys = round_trip(caf::make_message(
    get_keys_atom::value, std::string{"s"}, std::string{"pre-key"},
    std::vector<std::string>{"1", "2"}));
  REQUIRE((keys.match_elements<get_keys_atom, std::string, std::string,
                               std::vector<std::string>>()));
}

TEST_CASE_METHOD(fixture,
                 "authstore errors keep their code and context "
                 "through caf::error",
                 "[serialization][invariant-4]") {
  auto err = make_error(errc::hot_unavailable, "redis down");
  auto f = to_failure(err);
  CHECK(f.code == errc::hot_unavailable);
  CHECK(f.detail == "redis down");
  CHECK(sys->render(err).find("hot_unavailable") != std::string::npos);
  CHECK(to_failure(caf::make_error(caf::sec::request_timeout)).code
        == errc::timeout);
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  REQUIRE_FALSE(sink(err));
  caf::error back;
  caf::binary_deserializer source{*sys, buf};
  REQUIRE_FALSE(source(back));
  CHECK(to_failure(back).code == errc::hot_unavailable);
  CHECK(to_failure(back).detail == "redis down");
}

TEST_CASE_METHOD(fixture,
                 "the breaker state crosses actors as its gauge value, one "
                 "byte",
                 "[serialization]") {
  std::vector<char> buf;
  caf::binary_serializer sink{*sys, buf};
  auto state = breaker_state::forced_open;
  REQUIRE_FALSE(sink(state));
  REQUIRE(buf.size() == 1);
  CHECK(buf[0] == 3);
  cold_status s;
  s.state = breaker_state::half_open;
  s.state_name = "half_open";
  s.next_probe_ms = 1200;
  s.transitions.assign(breaker_state_count * breaker_state_count, 0);
  s.transitions[2 * breaker_state_count + 1] = 4;
  auto out = round_trip(caf::make_message(s));
  REQUIRE(out.match_elements<cold_status>());
  const auto& back = out.get_as<cold_status>(0);
  CHECK(back.state == breaker_state::half_open);
  CHECK(back.state_name == "half_open");
  CHECK(back.next_probe_ms == 1200);
  CHECK(back.transitions == s.transitions);
}

} // namespace serialization_actortest
