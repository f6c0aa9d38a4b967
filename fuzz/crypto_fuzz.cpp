// crypto_fuzz.cpp -- encryption at rest's two parsers (crypto/key_ring.cpp,
// crypto/sealed_value.cpp) on arbitrary bytes. The first input byte picks
// the parser, the rest is its input:
//   even: the key file. Either a ring whose keys all have valid, unique
//         ids (find() returns that very key) and the first one active, or
//         invalid_config whose message echoes no key-like token of the
//         input (a key is 44 characters of base64: no run of 40 or more
//         non-space bytes of the input appears in the message).
//   odd:  a stored value, against a fixed ring. open() returns the value
//         unchanged when it is not sealed, else a plaintext or
//         decrypt_failed, never another code; sealing the input and opening
//         it gives the input back, and the same sealed value opened for
//         another session or field fails with decrypt_failed (the
//         associated data binds both); the sealed form has a header naming
//         the active key.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "crypto/key_ring.hpp"
#include "crypto/sealed_value.hpp"
#include "fuzz/fuzz_check.hpp"

using namespace authstore;
using namespace authstore::crypto;

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
         || c == '\f';
}

void key_file(std::string_view text) {
  auto ring = key_ring::parse(text, "fuzz");
  if (!ring) {
    FUZZ_CHECK(ring.error().code == errc::invalid_config);
    const std::string message = ring.error().render();
    for (size_t i = 0; i < text.size();) {
      size_t j = i;
      while (j < text.size() && !is_space(text[j]))
        ++j;
      if (j - i >= 40)
        FUZZ_CHECK(message.find(text.substr(i, j - i)) == std::string::npos);
      i = j + 1;
    }
    return;
  }
  FUZZ_CHECK(!ring->keys().empty());
  FUZZ_CHECK(&ring->active() == &ring->keys().front());
  for (const auto& k : ring->keys()) {
    FUZZ_CHECK(is_key_id(k.id));
    FUZZ_CHECK(ring->find(k.id) == &k);
  }
}

void stored_value(std::string_view stored) {
  static const auto ring
    = *key_ring::parse("k1 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
                       "k0 //////////////////////////////////////////8=\n",
                       "fuzz");
  auto plain = open(ring, "sid", "c:me", stored);
  if (!plain)
    FUZZ_CHECK(plain.error().code == errc::decrypt_failed);
  if (!is_sealed(stored))
    FUZZ_CHECK(plain && *plain == stored);
  (void)parse_header(stored);

  auto sealed = seal(ring.active(), "sid", "k:pre-key/1", stored);
  FUZZ_CHECK(sealed);
  FUZZ_CHECK(is_sealed(*sealed));
  auto header = parse_header(*sealed);
  FUZZ_CHECK(header && header->version == format_version
             && header->key_id == "k1");
  auto back = open(ring, "sid", "k:pre-key/1", *sealed);
  FUZZ_CHECK(back && *back == stored);
  auto moved = open(ring, "sid2", "k:pre-key/1", *sealed);
  FUZZ_CHECK(!moved && moved.error().code == errc::decrypt_failed);
  auto renamed = open(ring, "sid", "k:pre-key/2", *sealed);
  FUZZ_CHECK(!renamed && renamed.error().code == errc::decrypt_failed);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  if (data[0] % 2 == 0)
    key_file(rest);
  else
    stored_value(rest);
  return 0;
}
