// key_ring.hpp -- the keys of encryption at rest (issue #17), read from the
// key file (crypto.key-file).
//
// Why a ring: rotation without downtime needs the new key to encrypt while
// the old ones still decrypt what was written before. The file holds one
// key per line, `<key-id> <base64 of 32 bytes>`; the first key line is the
// active key (every new value is sealed with it), the others only open
// values that still name them. Blank lines and lines starting with '#' are
// ignored (an operator may annotate a retired key's date).
//
// Guarantees: a ring exists only when the whole file is valid: a malformed
// line, an id outside [A-Za-z0-9_-]{1,32}, a key that is not base64 of
// exactly 32 bytes, a duplicate id or a file without a key is an
// invalid_config error naming the source and the line number, never the
// line's text (it may hold key material). CAF-free: the parser is one of
// issue #17's fuzz targets (see the entry function in
// tests/unit/key_ring_test.cpp). The key bytes live in this process's
// memory only; no log, metric or error text carries them.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace authstore::crypto {

/// Bytes of an AES-256 key.
constexpr size_t key_bytes = 32;

/// Longest key id, in bytes (it is written into every stored value).
constexpr size_t max_key_id_bytes = 32;

/// One key of the ring.
struct key {
  /// Its name in every value it sealed ([A-Za-z0-9_-]{1,32}).
  std::string id;
  std::array<uint8_t, key_bytes> bytes{};
};

/// Whether `id` is a valid key id ([A-Za-z0-9_-]{1,32}).
bool is_key_id(std::string_view id);

/// A parsed key file: at least one key, ids unique, the first active.
class key_ring {
public:
  /// Parses the text of a key file; `source` (e.g. the path) names it in
  /// errors.
  static outcome<key_ring> parse(std::string_view text,
                                 std::string_view source);

  /// Reads and parses the file at `path`.
  static outcome<key_ring> load(const std::string& path);

  /// The key new values are sealed with (the file's first key).
  const key& active() const { return keys_.front(); }

  /// The key named `id`, or nullptr.
  const key* find(std::string_view id) const;

  /// All keys, the active one first.
  const std::vector<key>& keys() const { return keys_; }

private:
  key_ring() = default;
  std::vector<key> keys_;
};

/// A new key line, `<id> <base64 of 32 random bytes>` (RAND_bytes), for
/// `authstore keygen`. Errors: invalid_argument (bad id), internal (no
/// randomness).
outcome<std::string> new_key_line(std::string_view id);

} // namespace authstore::crypto
