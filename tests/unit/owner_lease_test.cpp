// Tests of actors/owner_lease.hpp: when a session actor may answer from its
// cache under node ownership (issue #19), with time passed in.
#include "actors/owner_lease.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace owner_lease_test {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

using clock_type = owner_lease::clock;
const clock_type::time_point t0 = clock_type::time_point{} + 1h;

} // namespace

TEST_CASE("the cache is trusted from a take until its send time plus the "
          "ttl less the margin, never before the lease was granted",
          "[issue-19]") {
  owner_lease uut{300ms};
  CHECK_FALSE(uut.valid(t0));
  // Sent at t0, answered 50 ms later: counted from the send.
  CHECK(uut.acquired(t0, 1, 3000ms)); // a new term drops the cache
  CHECK(uut.held());
  CHECK(uut.epoch() == 1);
  CHECK(uut.valid(t0 + 50ms));
  CHECK(uut.valid(t0 + 2699ms));
  CHECK_FALSE(uut.valid(t0 + 2700ms));
  // A process paused past its lease wakes with its steady clock moved on.
  CHECK_FALSE(uut.valid(t0 + 60s));
}

TEST_CASE("a renewal at the same epoch extends the lease and keeps the "
          "cache; a new epoch drops it",
          "[issue-19]") {
  owner_lease uut{300ms};
  REQUIRE(uut.acquired(t0, 4, 3000ms));
  CHECK_FALSE(uut.acquired(t0 + 1s, 4, 3000ms));
  CHECK(uut.valid(t0 + 3699ms));
  CHECK_FALSE(uut.valid(t0 + 3700ms));
  // A late reply to an older renewal never shortens it.
  CHECK_FALSE(uut.acquired(t0 + 500ms, 4, 3000ms));
  CHECK(uut.valid(t0 + 3699ms));
  // The epoch moved: there was a gap, someone else may have written.
  CHECK(uut.acquired(t0 + 2s, 6, 3000ms));
  CHECK(uut.epoch() == 6);
}

TEST_CASE("another owner's answer ends the lease and names that owner; "
          "taking it back later is a new term",
          "[issue-19]") {
  owner_lease uut{300ms};
  REQUIRE(uut.acquired(t0, 1, 3000ms));
  CHECK(uut.refused("node-b")); // was held: drop the cache
  CHECK_FALSE(uut.held());
  CHECK_FALSE(uut.valid(t0 + 1s));
  CHECK(uut.owner() == "node-b");
  // Refused again while not held: nothing to drop.
  CHECK_FALSE(uut.refused("node-b"));
  // Taking it back is a new term, even at an epoch seen before.
  CHECK(uut.acquired(t0 + 6s, 1, 3000ms));
  CHECK(uut.owner().empty());
}

TEST_CASE("a fenced write ends the lease; the next take is a new term",
          "[issue-19]") {
  owner_lease uut{300ms};
  REQUIRE(uut.acquired(t0, 2, 3000ms));
  CHECK(uut.lost());
  CHECK_FALSE(uut.valid(t0 + 1ms));
  CHECK_FALSE(uut.lost());
  CHECK(uut.acquired(t0 + 2ms, 2, 3000ms)); // same epoch, still a new term
}

} // namespace owner_lease_test
