// rekey.cpp -- see rekey.hpp.
#include "crypto/rekey.hpp"

#include "crypto/sealed_value.hpp"

namespace authstore::crypto {

void key_census::add(const key_census& other) {
  for (const auto& [id, n] : other.by_key)
    by_key[id] += n;
  plaintext += other.plaintext;
  unreadable += other.unreadable;
}

outcome<rekey_plan> plan_rekey(const value_cipher& cipher, std::string_view sid,
                               const session_snapshot& snap) {
  rekey_plan plan;
  plan.writes.expected_version = snap.version;
  const auto& active = cipher.ring().active();
  for (const auto& f : snap.fields) {
    std::string from;
    if (is_sealed(f.value)) {
      auto h = parse_header(f.value);
      if (!h) {
        ++plan.before.unreadable;
        continue;
      }
      from = std::string{h->key_id};
      ++plan.before.by_key[from];
      if (from == active.id)
        continue;
    } else {
      ++plan.before.plaintext;
    }
    auto plain = crypto::open(cipher.ring(), sid, f.field, f.value);
    if (!plain) {
      ++plan.before.unreadable;
      continue;
    }
    auto again = seal(active, sid, f.field, *plain);
    if (!again)
      return again.error();
    plan.writes.writes.push_back({f.field, false, std::move(*again)});
    if (from.empty())
      ++plan.moved.plaintext;
    else
      ++plan.moved.by_key[from];
  }
  return plan;
}

} // namespace authstore::crypto
