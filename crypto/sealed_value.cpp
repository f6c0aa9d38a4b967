// sealed_value.cpp -- AES-256-GCM through OpenSSL's EVP interface
// (sealed_value.hpp). One EVP_CIPHER_CTX per call: a context is cheap next
// to the Redis round trip, and nothing is shared between threads.
#include "crypto/sealed_value.hpp"

#include <memory>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "messages/codec.hpp"
#include "messages/model.hpp"

namespace authstore::crypto {

namespace {

struct ctx_free {
  void operator()(EVP_CIPHER_CTX* p) const { EVP_CIPHER_CTX_free(p); }
};
using ctx_ptr = std::unique_ptr<EVP_CIPHER_CTX, ctx_free>;

void append_sized(std::string& out, std::string_view part) {
  auto n = static_cast<uint32_t>(part.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xff);
  out.append(part.data(), part.size());
}

/// The associated data: header, then session id, kind, type and id, each
/// length-prefixed so no two places share a byte string.
std::string associated_data(std::string_view header, std::string_view sid,
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
  std::string aad;
  aad.reserve(header.size() + sid.size() + field.size() + 24);
  append_sized(aad, header);
  append_sized(aad, sid);
  append_sized(aad, kind);
  append_sized(aad, type);
  append_sized(aad, id);
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
  std::string header;
  header += sealed_mark;
  header += format_version;
  header += '.';
  header += k.id;
  header += '.';
  auto aad = associated_data(header, sid, field);
  // nonce || ciphertext || tag, then base64.
  std::string raw(nonce_bytes + plaintext.size() + tag_bytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (RAND_bytes(out, nonce_bytes) != 1)
    return openssl_failed("RAND_bytes");
  ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  if (!ctx
      || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                            k.bytes.data(), out)
           != 1
      || EVP_EncryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_EncryptUpdate(ctx.get(), out + nonce_bytes, &len,
                           bytes_of(plaintext),
                           static_cast<int>(plaintext.size()))
           != 1
      || EVP_EncryptFinal_ex(ctx.get(), out + nonce_bytes + len, &len) != 1
      || EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_bytes,
                             out + nonce_bytes + plaintext.size())
           != 1)
    return openssl_failed("AES-256-GCM encrypt");
  header += base64_encode(raw);
  return header;
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
  auto raw = base64_decode(h->body);
  if (!raw || raw->size() < nonce_bytes + tag_bytes)
    return cannot_open(h->key_id, "the body is not base64 of nonce, "
                                  "ciphertext and tag");
  auto header = stored.substr(0, stored.size() - h->body.size());
  auto aad = associated_data(header, sid, field);
  const auto* in = bytes_of(*raw);
  size_t text_size = raw->size() - nonce_bytes - tag_bytes;
  std::string plain(text_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plain.data());
  ctx_ptr ctx{EVP_CIPHER_CTX_new()};
  int len = 0;
  if (!ctx
      || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                            k->bytes.data(), in)
           != 1
      || EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes_of(aad),
                           static_cast<int>(aad.size()))
           != 1
      || EVP_DecryptUpdate(ctx.get(), out, &len, in + nonce_bytes,
                           static_cast<int>(text_size))
           != 1
      || EVP_CIPHER_CTX_ctrl(
           ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_bytes,
           const_cast<unsigned char*>(in + nonce_bytes + text_size))
           != 1)
    return openssl_failed("AES-256-GCM decrypt");
  // The tag check: a wrong key, a changed byte or another place all land
  // here, and the partial plaintext is dropped unseen.
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &len) != 1)
    return cannot_open(h->key_id,
                       "authentication failed (wrong key, tampered value, or "
                       "a value copied from another session or field)");
  return plain;
}

} // namespace authstore::crypto
