// key_ring.cpp -- the key file parser and the key generator (key_ring.hpp).
#include "crypto/key_ring.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <openssl/rand.h>

#include "messages/codec.hpp"

namespace authstore::crypto {

namespace {

failure bad_line(std::string_view source, size_t line, std::string_view why) {
  return {errc::invalid_config, std::string{source} + " line "
                                  + std::to_string(line) + ": "
                                  + std::string{why}};
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back()))
    s.remove_suffix(1);
  return s;
}

} // namespace

bool is_key_id(std::string_view id) {
  if (id.empty() || id.size() > max_key_id_bytes)
    return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

outcome<key_ring> key_ring::parse(std::string_view text,
                                  std::string_view source) {
  key_ring ring;
  size_t number = 0;
  while (!text.empty() || number == 0) {
    ++number;
    auto eol = text.find('\n');
    auto line = trim(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view{}
                                         : text.substr(eol + 1);
    if (line.empty() || line.front() == '#') {
      if (text.empty())
        break;
      continue;
    }
    auto gap = line.find_first_of(" \t");
    if (gap == std::string_view::npos)
      return bad_line(source, number,
                      "expected '<key-id> <base64 of 32 bytes>'");
    auto id = line.substr(0, gap);
    auto material = trim(line.substr(gap));
    if (!is_key_id(id))
      return bad_line(source, number,
                      "the key id must be 1..32 of [A-Za-z0-9_-]");
    if (material.find_first_of(" \t") != std::string_view::npos)
      return bad_line(source, number, "more than two words");
    auto bytes = base64_decode(material);
    if (!bytes)
      return bad_line(source, number, "the key is not valid base64");
    if (bytes->size() != key_bytes)
      return bad_line(source, number,
                      "the key must be 32 bytes (base64 of 44 characters), "
                      "got "
                        + std::to_string(bytes->size()));
    if (ring.find(id))
      return bad_line(source, number,
                      "duplicate key id '" + std::string{id} + "'");
    key k;
    k.id = std::string{id};
    std::memcpy(k.bytes.data(), bytes->data(), key_bytes);
    // The decoded copy held key material: wipe it before it is freed.
    std::fill(bytes->begin(), bytes->end(), '\0');
    ring.keys_.push_back(std::move(k));
  }
  if (ring.keys_.empty())
    return failure{errc::invalid_config,
                   std::string{source}
                     + ": no key line (generate one with authstore keygen)"};
  return ring;
}

outcome<key_ring> key_ring::load(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return failure{errc::invalid_config,
                   "key file '" + path
                     + "' cannot be read: " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  auto s = text.str();
  auto ring = parse(s, "key file '" + path + "'");
  std::fill(s.begin(), s.end(), '\0');
  return ring;
}

const key* key_ring::find(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.id == id)
      return &k;
  return nullptr;
}

outcome<std::string> new_key_line(std::string_view id) {
  if (!is_key_id(id))
    return failure{errc::invalid_argument,
                   "the key id must be 1..32 of [A-Za-z0-9_-]"};
  std::array<unsigned char, key_bytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return failure{errc::internal, "RAND_bytes failed: no randomness"};
  std::string line{id};
  line += ' ';
  line += base64_encode(
    std::string_view{reinterpret_cast<const char*>(bytes.data()), key_bytes});
  std::fill(bytes.begin(), bytes.end(), 0);
  return line;
}

} // namespace authstore::crypto
