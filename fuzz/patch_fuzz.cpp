// patch_fuzz.cpp -- parse_patch on arbitrary bytes (messages/patch_json.hpp).
//
// A patch that parses must be one the rest of the store accepts: it passes
// validate_patch (the check before any backend call) under the same bounds,
// every value in it is normalized text that normalizes to itself, and the
// creds document built from it (creds_document, what a read returns) is
// JSON whose members are those values. Runs under the default limits and
// under tight ones (8 writes, values of 256 bytes, depth 4).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "messages/patch_json.hpp"

using namespace authstore;

namespace {

void check_patch(std::string_view text, const patch_limits& limits) {
  auto p = parse_patch(text, limits);
  if (!p)
    return;
  FUZZ_CHECK(p->writes.size() <= limits.max_writes);
  patch_limits bounds = limits;
  // Normalizing can lengthen values (1e21 is written out), so the payload
  // of a patch is bounded by the value limit, not by the text's length.
  bounds.max_patch_bytes = SIZE_MAX;
  FUZZ_CHECK(validate_patch(*p, bounds));
  size_t creds = 0;
  for (const auto& w : p->writes) {
    if (w.erase)
      continue;
    auto again = normalize_text(w.value, limits.value);
    FUZZ_CHECK(again);
    FUZZ_CHECK(*again == w.value);
    creds += w.field.compare(0, 2, "c:") == 0;
  }
  auto doc = creds_document(p->writes);
  codec_limits doc_limits;
  doc_limits.max_value_bytes = SIZE_MAX;
  doc_limits.max_depth = limits.value.max_depth + 1;
  doc_limits.max_fields = SIZE_MAX;
  auto parsed = parse_limited(doc, doc_limits);
  FUZZ_CHECK(parsed);
  FUZZ_CHECK(parsed->is_object());
  // A later write of the same field wins, so the document may have fewer
  // members than the patch has creds upserts, never more.
  FUZZ_CHECK(parsed->size() <= creds);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  check_patch(text, patch_limits{});
  patch_limits tight;
  tight.max_writes = 8;
  tight.max_patch_bytes = 4096;
  tight.value.max_value_bytes = 256;
  tight.value.max_depth = 4;
  tight.value.max_fields = 64;
  check_patch(text, tight);
  return 0;
}
