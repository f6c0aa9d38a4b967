// value_cipher.hpp -- encryption at rest as the session actor uses it: seal
// every value of a patch before the Lua write, open every value read from
// Redis before it reaches a caller (issue #17).
//
// Why one object: the engine loads the key ring once at start-up and hands
// the same cipher to every session actor (session_config::cipher), so the
// ring's keys exist once in memory and the counters are node-wide. Without
// a key file there is no cipher and values are stored as they are.
//
// Thread safety: the ring is immutable after construction; seal/open keep
// no state besides the relaxed counters, so any number of actors may call
// them at once. CAF-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/key_ring.hpp"
#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "observe/engine_counters.hpp"

namespace authstore::crypto {

/// Seals and opens the values of sessions with one key ring.
class value_cipher {
public:
  /// A cipher with `ring`, counting into `counters` (may be null; must
  /// outlive the cipher).
  explicit value_cipher(key_ring ring, security_counters* counters = nullptr)
      : ring_(std::move(ring)), counters_(counters) {}

  /// The ring (the active key seals, every key opens).
  const key_ring& ring() const { return ring_; }

  /// `p` with every written value sealed for session `sid` with the active
  /// key (erases and the expected version unchanged).
  outcome<patch> seal_patch(std::string_view sid, const patch& p) const;

  /// The value `stored` of `field` ("c:<name>" or "k:<type>/<id>") of
  /// session `sid`, opened (plaintext passes through). Errors:
  /// decrypt_failed.
  outcome<std::string> open(std::string_view sid, std::string_view field,
                            std::string_view stored) const;

private:
  void count(std::atomic<uint64_t> security_counters::*which,
             uint64_t n = 1) const {
    if (counters_)
      (counters_->*which).fetch_add(n, std::memory_order_relaxed);
  }

  key_ring ring_;
  security_counters* counters_;
};

} // namespace authstore::crypto
