// value_cipher.cpp -- see value_cipher.hpp.
#include "crypto/value_cipher.hpp"

#include "crypto/sealed_value.hpp"

namespace authstore::crypto {

outcome<patch> value_cipher::seal_patch(std::string_view sid,
                                        const patch& p) const {
  patch out;
  out.expected_version = p.expected_version;
  out.writes.reserve(p.writes.size());
  const key& k = ring_.active();
  uint64_t n = 0;
  for (const auto& w : p.writes) {
    if (w.erase) {
      out.writes.push_back(w);
      continue;
    }
    auto sealed = seal(k, sid, w.field, w.value);
    if (!sealed)
      return sealed.error();
    out.writes.push_back({w.field, false, std::move(*sealed)});
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
