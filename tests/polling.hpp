// polling.hpp -- the one way tests wait for something that happens on
// another thread (an actor, a server, a timer): poll a condition until it
// holds or a deadline passes.
//
// Why one helper: three near-copies with different intervals had grown in
// the actor, mongowire and redis tests. A test that waits asserts the
// result (REQUIRE(wait_until(...))), so a condition that never holds fails
// after `limit` instead of hanging. CAF-free, header-only.
#pragma once

#include <chrono>
#include <thread>

namespace authstore::test {

/// Polls `done` every `every` until it holds or `limit` passed; whether it
/// held (checked once more at the deadline).
template <class Pred>
bool wait_until(Pred done, std::chrono::milliseconds limit,
                std::chrono::milliseconds every
                = std::chrono::milliseconds{20}) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done())
      return true;
    std::this_thread::sleep_for(every);
  }
  return done();
}

} // namespace authstore::test
