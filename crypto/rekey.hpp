// rekey.hpp -- what re-encrypting one session takes (issue #17): which of
// its stored values are not sealed with the active key, and the patch that
// re-seals them. Shared by `authstore rekey` (runtime/cli/cmd_crypto.cpp)
// and the background sweep (actors/rekey_sweeper.cpp), so both count and
// write the same way.
//
// Guarantees: the patch carries expected_version = the version the values
// were read at, so applying it through apply_patch either re-seals exactly
// the values read or changes nothing (version_conflict: a client wrote
// meanwhile; read again). The plaintext it re-seals is what the stored
// value opens to, byte for byte. A value that does not open (its key is
// gone, or it was tampered with) is counted and left as it is: rekey never
// destroys what it cannot read. CAF-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "crypto/value_cipher.hpp"
#include "messages/model.hpp"

namespace authstore::crypto {

/// Stored values by what protects them.
struct key_census {
  /// Values sealed with each key id (ids outside the ring too).
  std::map<std::string, uint64_t> by_key;
  /// Values stored as plaintext (written before encryption was enabled).
  uint64_t plaintext = 0;
  /// Values that did not open (decrypt_failed; a missing key or damage).
  uint64_t unreadable = 0;

  /// Adds `other` into this one.
  void add(const key_census& other);
};

/// The plan for one session.
struct rekey_plan {
  /// Its values before the plan runs.
  key_census before;
  /// The re-sealing writes (empty: nothing to do), at the read version.
  patch writes;
  /// Where the values in `writes` came from (plaintext or their old key).
  key_census moved;
};

/// Plans the re-sealing of `snap` (session `sid`, read at snap.version):
/// every value that is plaintext or sealed with a key other than the
/// active one. Errors: internal (sealing failed).
outcome<rekey_plan> plan_rekey(const value_cipher& cipher, std::string_view sid,
                               const session_snapshot& snap);

} // namespace authstore::crypto
