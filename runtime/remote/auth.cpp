// auth.cpp -- SHA-256, HMAC-SHA256, nonces, proofs and secret loading
// (auth.hpp).
//
// SHA-256 follows FIPS 180-4 section 6.2 literally: one 64-byte block at a
// time, the message padded with 0x80, zeros and the 64-bit bit length. It
// is not fast (about 200 MB/s here) and does not need to be: it hashes a
// few hundred bytes per handshake.
#include "runtime/remote/auth.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/random.h>

#include "runtime/node/secret_compare.hpp"

namespace authstore {

namespace {

constexpr std::array<uint32_t, 64> round_constants = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
  0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
  0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
  0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

uint32_t rotr(uint32_t x, int n) {
  return (x >> n) | (x << (32 - n));
}

/// The running state of one hash computation.
class sha256_state {
public:
  void update(std::string_view data) {
    for (unsigned char c : data) {
      block_[fill_++] = c;
      if (fill_ == block_.size()) {
        compress();
        fill_ = 0;
      }
    }
    bits_ += static_cast<uint64_t>(data.size()) * 8;
  }

  sha256_digest finish() {
    uint64_t bits = bits_;
    update(std::string_view{"\x80", 1});
    while (fill_ != 56)
      update(std::string_view{"\0", 1});
    std::string length(8, '\0');
    for (int i = 0; i < 8; ++i)
      length[i] = static_cast<char>(bits >> (56 - 8 * i));
    update(length);
    sha256_digest result;
    for (size_t i = 0; i < 8; ++i)
      for (size_t j = 0; j < 4; ++j)
        result[4 * i + j] = static_cast<uint8_t>(h_[i] >> (24 - 8 * j));
    return result;
  }

private:
  void compress() {
    std::array<uint32_t, 64> w;
    for (size_t i = 0; i < 16; ++i)
      w[i] = (uint32_t{block_[4 * i]} << 24)
             | (uint32_t{block_[4 * i + 1]} << 16)
             | (uint32_t{block_[4 * i + 2]} << 8) | uint32_t{block_[4 * i + 3]};
    for (size_t i = 16; i < 64; ++i) {
      auto s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      auto s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    auto v = h_;
    for (size_t i = 0; i < 64; ++i) {
      auto s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
      auto ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
      auto t1 = v[7] + s1 + ch + round_constants[i] + w[i];
      auto s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
      auto maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
      auto t2 = s0 + maj;
      v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
    }
    for (size_t i = 0; i < 8; ++i)
      h_[i] += v[i];
  }

  std::array<uint32_t, 8> h_ = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::array<uint8_t, 64> block_{};
  size_t fill_ = 0;
  uint64_t bits_ = 0;
};

std::string_view as_bytes(const sha256_digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// The transcript a proof covers. Nonces are hex (checked by callers), so
/// the newline separators cannot be forged from inside a field.
std::string transcript(const char* role, uint32_t version, std::string_view a,
                       std::string_view b) {
  std::string result = "authstore/remote/v" + std::to_string(version) + "/";
  result += role;
  result += '\n';
  result += a;
  result += '\n';
  result += b;
  return result;
}

} // namespace

sha256_digest sha256(std::string_view data) {
  sha256_state st;
  st.update(data);
  return st.finish();
}

sha256_digest hmac_sha256(std::string_view key, std::string_view data) {
  constexpr size_t block_bytes = 64;
  std::string k{key};
  if (k.size() > block_bytes)
    k = std::string{as_bytes(sha256(k))};
  k.resize(block_bytes, '\0');
  std::string inner_pad = k;
  std::string outer_pad = k;
  for (size_t i = 0; i < block_bytes; ++i) {
    inner_pad[i] = static_cast<char>(inner_pad[i] ^ 0x36);
    outer_pad[i] = static_cast<char>(outer_pad[i] ^ 0x5c);
  }
  sha256_state inner;
  inner.update(inner_pad);
  inner.update(data);
  auto inner_digest = inner.finish();
  sha256_state outer;
  outer.update(outer_pad);
  outer.update(as_bytes(inner_digest));
  return outer.finish();
}

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  result.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    result += digits[c >> 4];
    result += digits[c & 0xf];
  }
  return result;
}

std::string to_hex(const sha256_digest& digest) {
  return to_hex(as_bytes(digest));
}

outcome<std::string> make_nonce() {
  std::string bytes(32, '\0');
  size_t got = 0;
  while (got < bytes.size()) {
    auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return failure{errc::internal,
                     std::string{"getrandom failed: "} + std::strerror(errno)};
    got += static_cast<size_t>(n);
  }
  return to_hex(bytes);
}

bool is_nonce(std::string_view x) {
  if (x.size() != 64)
    return false;
  for (char c : x)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

std::string server_proof(std::string_view secret, uint32_t version,
                         std::string_view client_nonce,
                         std::string_view server_nonce) {
  return to_hex(hmac_sha256(
    secret, transcript("server", version, client_nonce, server_nonce)));
}

std::string client_proof(std::string_view secret, uint32_t version,
                         std::string_view server_nonce,
                         std::string_view client_nonce) {
  return to_hex(hmac_sha256(
    secret, transcript("client", version, server_nonce, client_nonce)));
}

bool proofs_equal(std::string_view a, std::string_view b) {
  return equal_in_constant_time(a, b);
}

outcome<std::string> parse_secret(std::string_view text,
                                  const std::string& source) {
  // A secret file usually ends with a newline. (Not strchr(" \t\r\n", c):
  // it finds the terminating NUL too, and a NUL is not whitespace.)
  auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
  };
  while (!text.empty() && blank(text.back()))
    text.remove_suffix(1);
  if (text.empty())
    return failure{errc::invalid_config,
                   "the shared secret from " + source + " is empty"};
  if (text.size() < min_secret_bytes)
    return failure{errc::invalid_config,
                   "the shared secret from " + source + " is too short ("
                     + std::to_string(text.size()) + " bytes; at least "
                     + std::to_string(min_secret_bytes) + ")"};
  return std::string{text};
}

outcome<shared_secrets> load_secrets(const std::string& path) {
  shared_secrets result;
  if (!path.empty()) {
    std::ifstream in{path, std::ios::binary};
    if (!in)
      return failure{errc::invalid_config,
                     "secret file '" + path
                       + "' cannot be read: " + std::strerror(errno)};
    std::ostringstream text;
    text << in.rdbuf();
    auto all = text.str();
    while (!all.empty()
           && (all.back() == ' ' || all.back() == '\t' || all.back() == '\r'
               || all.back() == '\n'))
      all.pop_back();
    auto eol = all.find('\n');
    auto first = all.substr(0, eol);
    auto rest = eol == std::string::npos ? std::string{} : all.substr(eol + 1);
    auto src = "secret file '" + path + "'";
    auto current = parse_secret(first, src + " (line 1)");
    if (!current)
      return current.error();
    result.current = std::move(*current);
    if (rest.empty())
      return result;
    if (rest.find('\n') != std::string::npos)
      return failure{errc::invalid_config,
                     src
                       + " has more than two lines: at most the current "
                         "secret and, during a rotation, the previous one"};
    auto previous = parse_secret(rest, src + " (line 2)");
    if (!previous)
      return previous.error();
    result.previous = std::move(*previous);
    return result;
  }
  if (const char* env = std::getenv(secret_env_var)) {
    auto current = parse_secret(env, secret_env_var);
    if (!current)
      return current.error();
    result.current = std::move(*current);
  }
  return result;
}

outcome<std::string> load_secret(const std::string& path) {
  auto s = load_secrets(path);
  if (!s)
    return s.error();
  return std::move(s->current);
}

std::string server_proofs(const shared_secrets& secrets, uint32_t version,
                          std::string_view client_nonce,
                          std::string_view server_nonce) {
  auto answer
    = server_proof(secrets.current, version, client_nonce, server_nonce);
  if (!secrets.previous.empty()) {
    answer += ',';
    answer
      += server_proof(secrets.previous, version, client_nonce, server_nonce);
  }
  return answer;
}

bool server_proved(std::string_view answer, std::string_view expected) {
  bool found = false;
  while (true) {
    auto comma = answer.find(',');
    // Every proof is compared: no early exit on a match.
    found |= proofs_equal(answer.substr(0, comma), expected);
    if (comma == std::string_view::npos)
      return found;
    answer.remove_prefix(comma + 1);
  }
}

} // namespace authstore
