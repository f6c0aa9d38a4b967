// sealed_value.cpp -- AES-256-GCM through OpenSSL's EVP interface
// (sealed_value.hpp).
//
// Why the cipher state is kept (issue #17, measured with callgrind in
// bench/results/2026-12-07/CRYPTO-PERF.md): with OpenSSL 3 a value sealed
// the obvious way -- EVP_CIPHER_CTX_new, EVP_EncryptInit_ex with
// EVP_aes_256_gcm(), RAND_bytes(12) -- cost ~21 000 instructions, of which
// the AES-GCM work was a few hundred: EVP_aes_256_gcm() is a legacy
// object, so every init fetched the provider's implementation again (name
// lookup, property query, the method store's lock), allocated a provider
// context, and every 12-byte RAND_bytes went through the DRBG's generate
// and its re-keying. So:
//   - the cipher is fetched once per process (EVP_CIPHER_fetch) and never
//     freed (threads may seal until exit);
//   - each thread keeps one context per direction, initialised with that
//     cipher once and re-initialised per value with key and nonce only
//     (EVP_CipherInit_ex with a null cipher keeps the provider context);
//     a thread never shares its contexts, so no lock is needed;
//   - nonces are drawn from RAND_bytes in batches into a per-thread pool
//     and each is handed out once. A nonce is public (it is stored with
//     the value), so the pool holds nothing secret; what matters is that
//     none is used twice, including across fork(): a child drops the pool
//     it inherited (pthread_atfork), so parent and child never hand out the
//     same bytes.
// A failed open (wrong key, tampered value) leaves the context in a state
// the next init resets (tested in tests/unit/sealed_value_test.cpp).
#include "crypto/sealed_value.hpp"

#include <array>
#include <cstring>
#include <memory>
#include <mutex>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>

#include "messages/codec.hpp"
#include "messages/model.hpp"

namespace authstore::crypto {

namespace {

struct ctx_free {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_free>;

/// AES-256-GCM from the default provider, fetched on first use and kept
/// for the process (null when OpenSSL cannot provide it).
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* const cipher
    = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;
}

/// One thread's cipher state for one direction: its context, bound to the
/// cipher, and the key the context holds, so that a run of values under
/// one key (the normal case: one active key) skips the AES key schedule and
/// GHASH setup (~1 400 instructions a value). The copy of the key is no
/// more exposure than the key schedule in the context itself; both are
/// cleansed when the thread exits.
struct thread_cipher {
  ctx_ptr ctx;
  std::array<uint8_t, key_bytes> key{};
  bool keyed = false;
  ~thread_cipher() { OPENSSL_cleanse(key.data(), key.size()); }
};

/// This thread's context for `encrypt` (true) or decrypt, initialised for
/// key `k` and `nonce`; null when OpenSSL fails (the caller reports
/// internal).
EVP_CIPHER_CTX* begin(bool encrypt, const key& k, const unsigned char* nonce) {
  thread_local thread_cipher state[2];
  auto& st = state[encrypt ? 1 : 0];
  if (!st.ctx) {
    const EVP_CIPHER* cipher = aes_256_gcm();
    ctx_ptr fresh{EVP_CIPHER_CTX_new()};
    if (!cipher || !fresh
        || EVP_CipherInit_ex(fresh.get(), cipher, nullptr, nullptr, nullptr,
                             encrypt ? 1 : 0)
             != 1)
      return nullptr;
    st.ctx = std::move(fresh);
  }
  bool same
    = st.keyed && CRYPTO_memcmp(st.key.data(), k.bytes.data(), key_bytes) == 0;
  // Unkeyed until the init succeeds: a failed init must not leave a key
  // this context does not hold marked as held.
  st.keyed = false;
  if (EVP_CipherInit_ex(st.ctx.get(), nullptr, nullptr,
                        same ? nullptr : k.bytes.data(), nonce, encrypt ? 1 : 0)
      != 1)
    return nullptr;
  st.key = k.bytes;
  st.keyed = true;
  return st.ctx.get();
}

/// Nonces per RAND_bytes call: one DRBG generate serves 64 values (768
/// bytes), so its fixed cost (~7 000 instructions) is ~1 % of each.
constexpr size_t nonces_per_draw = 64;

/// This thread's unused random nonces. Constant-initialised (no TLS guard,
/// so the fork handler may touch it in any thread).
struct nonce_pool {
  unsigned char bytes[nonce_bytes * nonces_per_draw];
  size_t next = sizeof bytes; // sizeof bytes: empty
};
thread_local nonce_pool nonces{{}, sizeof nonce_pool::bytes};

/// In a forked child: forget the nonces the parent may still hand out. The
/// child runs only the thread that forked, whose pool this is.
void drop_nonces_after_fork() {
  OPENSSL_cleanse(nonces.bytes, sizeof nonces.bytes);
  nonces.next = sizeof nonces.bytes;
}

/// Writes a fresh random nonce to `out`; false when RAND_bytes fails.
bool take_nonce(unsigned char* out) {
  static std::once_flag fork_handler;
  std::call_once(fork_handler, [] {
    pthread_atfork(nullptr, nullptr, drop_nonces_after_fork);
  });
  if (nonces.next == sizeof nonces.bytes) {
    if (RAND_bytes(nonces.bytes, sizeof nonces.bytes) != 1)
      return false;
    nonces.next = 0;
  }
  std::memcpy(out, nonces.bytes + nonces.next, nonce_bytes);
  // Cleared as it is handed out: a nonce exists once in the pool.
  std::memset(nonces.bytes + nonces.next, 0, nonce_bytes);
  nonces.next += nonce_bytes;
  return true;
}

/// Writes `part` with its 4-byte big-endian length at `out`; returns the
/// byte after it.
char* put_sized(char* out, std::string_view part) {
  auto n = static_cast<uint32_t>(part.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    *out++ = static_cast<char>((n >> shift) & 0xff);
  // An empty part (a creds field has no type) may have a null data():
  // memcpy from null is undefined even for 0 bytes (UBSan, crypto_fuzz).
  if (!part.empty())
    std::memcpy(out, part.data(), part.size());
  return out + part.size();
}

/// The associated data: header, then session id, kind, type and id, each
/// length-prefixed so no two places share a byte string. Written into this
/// thread's buffer (valid until the thread's next call): the AAD is
/// rebuilt for every value, and a buffer kept keeps malloc out of it.
std::string_view associated_data(std::string_view header, std::string_view sid,
                                 std::string_view field) {
  std::string_view kind = "other";
  std::string_view type;
  std::string_view id = field;
  if (is_creds_field(field)) {
    kind = "creds";
    id = field_subject(field);
  } else if (split_key_field(field, type, id)) {
    kind = "key";
  }
  thread_local std::string aad;
  aad.resize(5 * 4 + header.size() + sid.size() + kind.size() + type.size()
             + id.size());
  char* out = aad.data();
  for (auto part : {header, sid, kind, type, id})
    out = put_sized(out, part);
  return aad;
}

failure openssl_failed(const char* what) {
  return {errc::internal, std::string{"openssl: "} + what + " failed"};
}

failure cannot_open(std::string_view key_id, std::string why) {
  return {errc::decrypt_failed,
          "value sealed with key '" + std::string{key_id} + "': " + why};
}

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

} // namespace

bool is_sealed(std::string_view stored) {
  return !stored.empty() && stored.front() == sealed_mark;
}

outcome<sealed_header> parse_header(std::string_view stored) {
  // "~" version "." key-id "." body
  if (stored.size() < 5 || stored[0] != sealed_mark || stored[2] != '.')
    return failure{errc::decrypt_failed, "malformed sealed value header"};
  auto dot = stored.find('.', 3);
  if (dot == std::string_view::npos)
    return failure{errc::decrypt_failed, "malformed sealed value header"};
  sealed_header h;
  h.version = stored[1];
  h.key_id = stored.substr(3, dot - 3);
  h.body = stored.substr(dot + 1);
  if (!is_key_id(h.key_id))
    return failure{errc::decrypt_failed, "malformed key id in a sealed value"};
  return h;
}

outcome<std::string> seal(const key& k, std::string_view sid,
                          std::string_view field, std::string_view plaintext) {
  // The result is written in one buffer: header, then the base64 of
  // nonce || ciphertext || tag (raw), appended in place.
  std::string sealed;
  sealed.reserve(4 + k.id.size()
                 + (nonce_bytes + plaintext.size() + tag_bytes + 2) / 3 * 4);
  sealed += sealed_mark;
  sealed += format_version;
  sealed += '.';
  sealed += k.id;
  sealed += '.';
  auto aad = associated_data(sealed, sid, field);
  // nonce || ciphertext || tag in this thread's buffer (no malloc per
  // value; it holds only what is stored anyway: public nonce, ciphertext).
  thread_local std::string raw;
  raw.resize(nonce_bytes + plaintext.size() + tag_bytes);
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (!take_nonce(out))
    return openssl_failed("RAND_bytes");
  EVP_CIPHER_CTX* ctx = begin(true, k, out);
  int len = 0;
  if (!ctx
      || EVP_EncryptUpdate(ctx, nullptr, &len, bytes_of(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_EncryptUpdate(ctx, out + nonce_bytes, &len, bytes_of(plaintext),
                           static_cast<int>(plaintext.size()))
           != 1
      || EVP_EncryptFinal_ex(ctx, out + nonce_bytes + len, &len) != 1
      || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, tag_bytes,
                             out + nonce_bytes + plaintext.size())
           != 1)
    return openssl_failed("AES-256-GCM encrypt");
  base64_append(sealed, raw);
  return sealed;
}

outcome<std::string> open(const key_ring& ring, std::string_view sid,
                          std::string_view field, std::string_view stored) {
  if (!is_sealed(stored))
    return std::string{stored};
  auto h = parse_header(stored);
  if (!h)
    return h.error();
  if (h->version != format_version)
    return cannot_open(h->key_id, std::string{"unknown format version '"}
                                    + h->version + "'");
  const key* k = ring.find(h->key_id);
  if (!k)
    return cannot_open(h->key_id,
                       "no such key in the key ring (was it removed before "
                       "authstore rekey reported it unused?)");
  // Decoded into this thread's buffer (no malloc per value; it holds what
  // Redis holds: nonce, ciphertext, tag -- never plaintext).
  thread_local std::string raw;
  auto decoded = base64_decode_into(raw, h->body);
  if (!decoded || raw.size() < nonce_bytes + tag_bytes)
    return cannot_open(h->key_id, "the body is not base64 of nonce, "
                                  "ciphertext and tag");
  auto header = stored.substr(0, stored.size() - h->body.size());
  auto aad = associated_data(header, sid, field);
  const auto* in = bytes_of(raw);
  size_t text_size = raw.size() - nonce_bytes - tag_bytes;
  std::string plain(text_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  EVP_CIPHER_CTX* ctx = begin(false, *k, in);
  int len = 0;
  if (!ctx
      || EVP_DecryptUpdate(ctx, nullptr, &len, bytes_of(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_DecryptUpdate(ctx, out, &len, in + nonce_bytes,
                           static_cast<int>(text_size))
           != 1
      || EVP_CIPHER_CTX_ctrl(
           ctx, EVP_CTRL_GCM_SET_TAG, tag_bytes,
           const_cast<unsigned char*>(in + nonce_bytes + text_size))
           != 1)
    return openssl_failed("AES-256-GCM decrypt");
  // The tag check: a wrong key, a changed byte or another place all land
  // here, and the partial plaintext is dropped unseen.
  if (EVP_DecryptFinal_ex(ctx, out + len, &len) != 1)
    return cannot_open(h->key_id,
                       "authentication failed (wrong key, tampered value, or "
                       "a value copied from another session or field)");
  return plain;
}

} // namespace authstore::crypto
