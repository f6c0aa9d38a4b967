// rekey_sweeper.hpp -- spawns the background rekey sweep (issue #17,
// crypto.rekey-sweep).
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "messages/interfaces.hpp"
#include "observe/engine_counters.hpp"

namespace caf {
class actor_system;
}

namespace authstore::crypto {
class value_cipher;
}

namespace authstore {

/// Settings of the sweep.
struct rekey_sweeper_config {
  /// Its own Redis connection (as the reconciler's: a sweep step must not
  /// queue ahead of session traffic).
  redis_actor redis;
  /// The node's cipher (required): the active key seals.
  std::shared_ptr<const crypto::value_cipher> cipher;
  /// Time between ticks (crypto.rekey-interval-ms).
  std::chrono::milliseconds interval{1000};
  /// Most sessions examined per tick (crypto.rekey-per-tick): the rate. Also
  /// SCAN's COUNT hint.
  size_t per_tick = 20;
  /// Bound on each Redis request.
  std::chrono::milliseconds redis_timeout{3000};
  /// Writes as the session actors write: dirty marks and trace with a cold
  /// store, the hot TTL.
  bool with_cold = false;
  std::chrono::seconds hot_ttl{0};
  /// Limits of one read (a session larger than one patch is skipped).
  size_t max_fields = 10000;
  size_t max_bytes = 16u << 20;
  /// Where re-sealed values (rekeyed) and values that did not open
  /// (decrypt_failures) are counted (may be null).
  security_counters* counters = nullptr;
};

/// Spawns the sweep; it runs until it receives an exit.
rekey_sweeper_actor spawn_rekey_sweeper(caf::actor_system& sys,
                                        rekey_sweeper_config cfg);

} // namespace authstore
