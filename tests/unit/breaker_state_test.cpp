// Tests of messages/breaker_state.hpp: the breaker's state as a protocol
// value -- pinned numbers, stable tokens, and when it refuses every call.
#include "messages/breaker_state.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace breaker_state_test {

using namespace authstore;

namespace {

const breaker_state all_states[]
  = {breaker_state::closed, breaker_state::half_open, breaker_state::open,
     breaker_state::forced_open, breaker_state::disabled};

} // namespace

TEST_CASE("breaker states keep their wire and gauge numbers",
          "[breaker-state]") {
  // cold_status carries them across actors; the gauge documents them.
  CHECK(static_cast<int>(breaker_state::closed) == 0);
  CHECK(static_cast<int>(breaker_state::half_open) == 1);
  CHECK(static_cast<int>(breaker_state::open) == 2);
  CHECK(static_cast<int>(breaker_state::forced_open) == 3);
  CHECK(static_cast<int>(breaker_state::disabled) == 4);
  CHECK(std::size(all_states) == breaker_state_count);
  for (auto x : all_states)
    CHECK(static_cast<size_t>(x) < breaker_state_count);
}

TEST_CASE("every breaker state has a distinct stable token",
          "[breaker-state]") {
  std::set<std::string_view> tokens;
  for (auto x : all_states) {
    CHECK(to_string(x) != "unknown");
    CHECK(tokens.insert(to_string(x)).second);
  }
  CHECK(to_string(breaker_state::half_open) == "half_open");
  CHECK(to_string(static_cast<breaker_state>(99)) == "unknown");
}

TEST_CASE("only a forced-open breaker, or an open one with no probe due, "
          "refuses every call",
          "[breaker-state]") {
  for (int64_t probe_in : {int64_t{0}, int64_t{1}, int64_t{5000}}) {
    CAPTURE(probe_in);
    CHECK_FALSE(refuses_calls(breaker_state::closed, probe_in));
    CHECK_FALSE(refuses_calls(breaker_state::half_open, probe_in));
    CHECK_FALSE(refuses_calls(breaker_state::disabled, probe_in));
    CHECK(refuses_calls(breaker_state::forced_open, probe_in));
  }
  // Open with its period elapsed lets the next call through as a probe.
  CHECK_FALSE(refuses_calls(breaker_state::open, 0));
  CHECK(refuses_calls(breaker_state::open, 1));
  CHECK(refuses_calls(breaker_state::open, 5000));
}

} // namespace breaker_state_test
