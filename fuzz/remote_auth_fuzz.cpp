// remote_auth_fuzz.cpp -- the CAF-free half of the remote handshake
// (runtime/remote/auth.hpp) on arbitrary inputs: what a peer sends (the
// version, nonces and proofs of hello and auth), and the secret text.
//
// Properties:
// - sha256 and hmac_sha256 equal OpenSSL's for any key and message (the
//   implementation here is our own; libcrypto is the oracle);
// - is_nonce accepts exactly 64 lowercase hex characters, and proofs_equal
//   is equality;
// - a proof is accepted (proofs_equal with the one the verifier computes)
//   only when it is the genuine one: the fuzzer's proof for a hello or auth
//   passes only if it equals server_proof / client_proof of the secret;
//   a server proof never passes as the client's (domain separation);
// - parse_secret returns the text without its trailing blanks, and fails
//   exactly when that is shorter than min_secret_bytes.
// Not reached (CAF): the deserialization of hello/auth messages by CAF's
// middleman, and the gate's challenge table in runtime/remote/server.cpp
// (single use, expiry, per-node limit); tests/e2e/remote_auth_e2etest.cpp
// covers those with real processes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "fuzz/fuzz_check.hpp"
#include "runtime/remote/auth.hpp"

using namespace authstore;

namespace {

std::string as_text(const sha256_digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

void check_against_openssl(const std::string& key, const std::string& msg) {
  unsigned char ref[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), ref);
  FUZZ_CHECK(as_text(sha256(msg))
             == std::string(reinterpret_cast<char*>(ref), sizeof ref));
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), ref,
       &len);
  FUZZ_CHECK(len == SHA256_DIGEST_LENGTH);
  FUZZ_CHECK(as_text(hmac_sha256(key, msg))
             == std::string(reinterpret_cast<char*>(ref), len));
}

bool lower_hex(const std::string& x) {
  for (char c : x)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

void check_secret_text(const std::string& text) {
  auto end = text.find_last_not_of(" \t\r\n");
  auto kept
    = end == std::string::npos ? std::string{} : text.substr(0, end + 1);
  auto s = parse_secret(text, "fuzz");
  FUZZ_CHECK(static_cast<bool>(s) == (kept.size() >= min_secret_bytes));
  if (s)
    FUZZ_CHECK(*s == kept);
  else
    FUZZ_CHECK(s.error().code == errc::invalid_config);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in{data, size};
  auto secret = in.ConsumeRandomLengthString(128);
  auto version = in.ConsumeIntegral<uint32_t>();
  auto cn = in.ConsumeRandomLengthString(80);
  auto sn = in.ConsumeRandomLengthString(80);
  auto proof = in.ConsumeRandomLengthString(80);
  auto rest = in.ConsumeRemainingBytesAsString();

  check_against_openssl(secret, rest);

  for (const auto* x : {&cn, &sn, &proof})
    FUZZ_CHECK(is_nonce(*x) == (x->size() == 64 && lower_hex(*x)));
  FUZZ_CHECK(proofs_equal(proof, cn) == (proof == cn));

  auto server = server_proof(secret, version, cn, sn);
  auto client = client_proof(secret, version, sn, cn);
  FUZZ_CHECK(server.size() == 64 && lower_hex(server));
  FUZZ_CHECK(client.size() == 64 && lower_hex(client));
  FUZZ_CHECK(server != client);
  // The verifier of each side recomputes the proof it expects.
  FUZZ_CHECK(proofs_equal(proof, server) == (proof == server));
  FUZZ_CHECK(proofs_equal(proof, client) == (proof == client));
  FUZZ_CHECK(server != client_proof(secret, version, cn, sn));

  auto hex = to_hex(rest);
  FUZZ_CHECK(hex.size() == 2 * rest.size() && lower_hex(hex));
  check_secret_text(secret + rest);
  return 0;
}
