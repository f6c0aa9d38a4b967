// Tests of actors/owner_hints.hpp: where a router forwards a session another
// node owns (issue #19), and until when, with time passed in.
#include "actors/owner_hints.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace owner_hints_test {

using namespace authstore;
using namespace std::chrono_literals;

namespace {

using clock_type = owner_hints::clock;
const clock_type::time_point t0 = clock_type::time_point{} + 1h;

} // namespace

TEST_CASE("issue #19 - a hint names the owner until the owner's record "
          "would expire, and nothing after",
          "[issue-19]") {
  owner_hints uut{"n1"};
  CHECK_FALSE(uut.owner("s", t0));
  uut.learn("s", "n2", t0 + 1000ms);
  REQUIRE(uut.owner("s", t0));
  CHECK(*uut.owner("s", t0) == "n2");
  CHECK(*uut.owner("s", t0 + 999ms) == "n2");
  CHECK_FALSE(uut.owner("s", t0 + 1000ms));
  CHECK_FALSE(uut.owner("other", t0));
  // A newer answer replaces the older one (a new owner, a longer term).
  uut.learn("s", "n3", t0 + 2000ms);
  CHECK(*uut.owner("s", t0 + 1500ms) == "n3");
}

TEST_CASE("issue #19 - a hint naming this node itself is never forwarded "
          "to: it says this node's own actor holds the lease",
          "[issue-19]") {
  owner_hints uut{"n1"};
  uut.learn("s", "n1", t0 + 1000ms);
  CHECK_FALSE(uut.owner("s", t0));
  CHECK(uut.local("s", t0));
  CHECK_FALSE(uut.local("s", t0 + 1000ms));
  CHECK_FALSE(uut.local("other", t0));
  // Another node taking over replaces it, and the other way round.
  uut.learn("s", "n2", t0 + 2000ms);
  CHECK_FALSE(uut.local("s", t0));
  CHECK(*uut.owner("s", t0) == "n2");
  uut.learn("s", "n1", t0 + 3000ms);
  CHECK(uut.local("s", t0));
  CHECK_FALSE(uut.owner("s", t0));
  // An empty node id means nothing.
  uut.learn("t", "", t0 + 1000ms);
  CHECK_FALSE(uut.owner("t", t0));
  CHECK_FALSE(uut.local("t", t0));
}

TEST_CASE("issue #19 - a failed forward forgets the hint it followed, not a "
          "newer one; expire drops what ran out",
          "[issue-19]") {
  owner_hints uut{"n1"};
  uut.learn("a", "n2", t0 + 1000ms);
  uut.learn("b", "n3", t0 + 3000ms);
  uut.forget("a", "n3"); // not the node it names: kept
  CHECK(uut.owner("a", t0));
  uut.forget("a", "n2");
  CHECK_FALSE(uut.owner("a", t0));
  uut.learn("a", "n2", t0 + 1000ms);
  CHECK(uut.expire(t0 + 1000ms) == 1);
  CHECK_FALSE(uut.owner("a", t0));
  CHECK(*uut.owner("b", t0) == "n3");
  CHECK(uut.expire(t0 + 3000ms) == 0);
}

} // namespace owner_hints_test
