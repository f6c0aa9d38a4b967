// sealed_value.hpp -- one stored value encrypted at rest: AES-256-GCM with
// a random 96-bit nonce, bound to the place it belongs (issue #17).
//
// Text encoding (the same bytes in Redis, MongoDB and PostgreSQL):
//
//   ~1.<key-id>.<base64(nonce[12] || ciphertext || tag[16])>
//   ^ ^ format version
//   +-- a byte that never starts JSON text
//
// Why text: a Redis value is binary-safe and a PostgreSQL bytea takes any
// bytes, but a MongoDB value is a BSON string, which must be UTF-8; ASCII
// survives all three unchanged. Why '~': stored plaintext values are
// normalized JSON text (the codec writes no leading whitespace), which
// starts with one of {["-0123456789tfn, never '~'; so a value written
// before encryption was enabled is told apart by its first byte and read
// as it is (and sealed on its next write).
//
// Associated data: the header ("~1.<key-id>.") and the value's place --
// session id, kind (creds or key), type and id (the store's field name
// "c:<name>" or "k:<type>/<id>" decomposed), each length-prefixed -- so a
// value copied to another session, field, type or id, or re-labelled with
// another key id or format version, fails to open.
//
// Guarantees: open() returns the plaintext that seal() was given for that
// exact place, or decrypt_failed (unknown key id, wrong key, any changed
// byte, a malformed header); never garbage. Errors name the key id and the
// reason, never key material or plaintext.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/key_ring.hpp"
#include "messages/errors.hpp"

namespace authstore::crypto {

/// The format version written by seal().
constexpr char format_version = '1';

/// Bytes of the GCM nonce (96 bits, the size GCM is defined for).
constexpr size_t nonce_bytes = 12;

/// Bytes of the GCM tag (128 bits, the full tag).
constexpr size_t tag_bytes = 16;

/// The first byte of every sealed value.
constexpr char sealed_mark = '~';

/// Whether `stored` is a sealed value (starts with the mark), as opposed to
/// plaintext JSON written before encryption was enabled.
bool is_sealed(std::string_view stored);

/// The parsed header of a sealed value.
struct sealed_header {
  char version = 0;
  std::string_view key_id;
  /// The base64 text after the header.
  std::string_view body;
};

/// Parses the header of `stored` (decrypt_failed when it is not
/// "~<version>.<key-id>.<body>" with a valid key id).
outcome<sealed_header> parse_header(std::string_view stored);

/// Seals `plaintext`, the value of `field` of session `sid`, with `k`.
/// Errors: internal (no randomness, an OpenSSL failure).
outcome<std::string> seal(const key& k, std::string_view sid,
                          std::string_view field, std::string_view plaintext);

/// Opens `stored`, the value of `field` of session `sid`: a sealed value
/// with the ring's key it names, plaintext as it is.
outcome<std::string> open(const key_ring& ring, std::string_view sid,
                          std::string_view field, std::string_view stored);

} // namespace authstore::crypto
