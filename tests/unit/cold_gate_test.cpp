// Tests of messages/cold_gate.hpp: what the cold supervisor publishes of its
// breaker, as persist rounds read it (issue #15).
#include "messages/cold_gate.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace cold_gate_test {

using namespace authstore;
using namespace std::chrono_literals;
using clock_type = cold_gate::clock;

TEST_CASE("a gate nobody published to refuses nothing and sets no limit",
          "[cold-gate]") {
  cold_gate uut;
  auto now = clock_type::now();
  CHECK_FALSE(uut.refuses(now));
  CHECK(uut.admits(now) == cold_gate::unlimited);
}

TEST_CASE("an open breaker refuses until its probe is due, then admits its "
          "probes",
          "[cold-gate]") {
  cold_gate uut;
  auto now = clock_type::now();
  uut.publish(now + 5s, 3);
  CHECK(uut.refuses(now));
  CHECK(uut.refuses(now + 5s - 1ns));
  CHECK(uut.admits(now + 4s) == 0);
  CHECK_FALSE(uut.refuses(now + 5s));
  CHECK(uut.admits(now + 5s) == 3);
  // Closed again: no refusal, no limit.
  uut.publish(clock_type::time_point::min(), cold_gate::unlimited);
  CHECK_FALSE(uut.refuses(now));
  CHECK(uut.admits(now) == cold_gate::unlimited);
}

TEST_CASE("a forced-open breaker refuses at any time", "[cold-gate]") {
  cold_gate uut;
  uut.publish(clock_type::time_point::max(), 0);
  CHECK(uut.refuses(clock_type::now() + std::chrono::hours{24 * 365}));
  CHECK(uut.admits(clock_type::now()) == 0);
}

} // namespace cold_gate_test
