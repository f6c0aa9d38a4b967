// codec_fuzz.cpp -- normalize_text, the Buffer codec and base64 on arbitrary
// bytes (messages/codec.hpp).
//
// Besides "no crash, no sanitizer report, no escaping exception", each input
// checks the codec's promises:
// - idempotence: text that normalizes normalizes to itself, under the same
//   limits (so a stored value can always be written back);
// - the output is JSON within the limits with only v7 Buffers in it;
// - base64: decode(encode(b)) == b for any bytes, and encode(decode(t)) == t
//   for any text that decodes (the decoder is canonical);
// - all three Buffer forms of the input's bytes normalize to the same text.
// Each input runs under the default limits and under tight ones (depth 4,
// 64 fields, 512 bytes), which reach the limit paths with short inputs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "messages/codec.hpp"

using namespace authstore;

namespace {

void check_normalize(std::string_view text, const codec_limits& limits) {
  auto out = normalize_text(text, limits);
  if (!out)
    return;
  FUZZ_CHECK(out->size() <= limits.max_value_bytes);
  auto again = normalize_text(*out, limits);
  FUZZ_CHECK(again);
  FUZZ_CHECK(*again == *out);
  auto parsed = parse_limited(*out, limits);
  FUZZ_CHECK(parsed);
  FUZZ_CHECK(has_only_v7_buffers(*parsed));
}

void check_base64(std::string_view bytes) {
  auto text = base64_encode(bytes);
  FUZZ_CHECK(text.size() == (bytes.size() + 2) / 3 * 4);
  auto back = base64_decode(text);
  FUZZ_CHECK(back);
  FUZZ_CHECK(*back == bytes);
  if (auto decoded = base64_decode(bytes))
    FUZZ_CHECK(base64_encode(*decoded) == bytes);
}

/// The three Buffer forms of `bytes` (at most 64 of them: the forms grow
/// 4-6 bytes per byte) normalize to the same text.
void check_buffer_forms(std::string_view bytes) {
  bytes = bytes.substr(0, 64);
  std::string tagged
    = R"({"type":"Buffer","data":")" + base64_encode(bytes) + "\"}";
  std::string numbers = R"({"type":"Buffer","data":[)";
  std::string object = "{";
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = std::to_string(static_cast<unsigned char>(bytes[i]));
    numbers += (i ? "," : "") + b;
    object += (i ? ",\"" : "\"") + std::to_string(i) + "\":" + b;
  }
  numbers += "]}";
  object += "}";
  codec_limits limits;
  auto a = normalize_text(tagged, limits);
  auto b = normalize_text(numbers, limits);
  FUZZ_CHECK(a && b && *a == tagged && *b == tagged);
  // {} is an ordinary object, not an empty Uint8Array (codec.cpp).
  auto c = normalize_text(object, limits);
  FUZZ_CHECK(c && *c == (bytes.empty() ? "{}" : tagged));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  check_normalize(text, codec_limits{});
  codec_limits tight;
  tight.max_depth = 4;
  tight.max_fields = 64;
  tight.max_value_bytes = 512;
  check_normalize(text, tight);
  check_base64(text);
  check_buffer_forms(text);
  return 0;
}
