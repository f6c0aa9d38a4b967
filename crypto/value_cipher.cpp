// value_cipher.cpp -- see value_cipher.hpp.
#include "crypto/value_cipher.hpp"

#include "crypto/sealed_value.hpp"

namespace authstore::crypto {

outcome<patch> value_cipher::seal_patch(std::string_view sid,
                                        const patch& p) const {
  // A copy of the whole patch, values then replaced: everything but the
  // values -- the expected version, if_absent, replace, min_version, the
  // client lease, and whatever a patch carries later -- goes to Redis as
  // the caller sent it. (Building a fresh patch from the writes and the
  // expected version alone dropped the lease and the import/restore options
  // of every encrypted write: a fenced client's writes were applied.)
  patch out = p;
  const key& k = ring_.active();
  uint64_t n = 0;
  for (auto& w : out.writes) {
    if (w.erase)
      continue;
    auto sealed = seal(k, sid, w.field, w.value);
    if (!sealed)
      return sealed.error();
    w.value = std::move(*sealed);
    ++n;
  }
  count(&security_counters::sealed, n);
  return out;
}

outcome<std::string> value_cipher::open(std::string_view sid,
                                        std::string_view field,
                                        std::string_view stored) const {
  if (!is_sealed(stored)) {
    count(&security_counters::plaintext_reads);
    return std::string{stored};
  }
  auto plain = crypto::open(ring_, sid, field, stored);
  count(plain ? &security_counters::opened
              : &security_counters::decrypt_failures);
  return plain;
}

} // namespace authstore::crypto
