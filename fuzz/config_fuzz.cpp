// config_fuzz.cpp -- the config-file parser (runtime/node/config_file.hpp),
// every setting's value check (settings::set) and the URL parsers behind
// them (parse_redis_url, redact_url) on arbitrary file text.
//
// Properties: every line parsed comes with "<name>:<n>" and a key and value
// without surrounding blanks; a value set is shown by describe() with a
// password never in it (redact_url hides what parse_redis_url would send
// to Redis as the password).
// Not reached here: reading the file (std::ifstream) and the environment,
// and the cross-setting rules of settings::load (they run on values that
// each passed the checks fuzzed here).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "redis/connection.hpp"
#include "runtime/node/config.hpp"
#include "runtime/node/config_file.hpp"

using namespace authstore;

namespace {

bool blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void check_redacted(const std::string& value) {
  auto ep = parse_redis_url(value);
  if (!ep || ep->password.empty() || ep->password == "***")
    return;
  // Searched after the scheme only: in redis://u@h.://u@h the password is
  // "//u", and the scheme and user alone already read "://u@".
  auto shown = redact_url(value);
  auto scheme = shown.find("://");
  FUZZ_CHECK(scheme != std::string::npos);
  FUZZ_CHECK(shown.find(":" + ep->password + "@", scheme + 3)
             == std::string::npos);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto defaults = settings::load({});
  FUZZ_CHECK(defaults);
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto s = *defaults;
  for (auto& line : parse_config_text(text, "fuzz.conf")) {
    if (!line) {
      FUZZ_CHECK(line.error().code == errc::invalid_config);
      FUZZ_CHECK(line.error().detail.compare(0, 10, "fuzz.conf:") == 0);
      continue;
    }
    FUZZ_CHECK(line->where.compare(0, 10, "fuzz.conf:") == 0);
    for (const auto* part : {&line->key, &line->value})
      FUZZ_CHECK(part->empty()
                 || (!blank(part->front()) && !blank(part->back())));
    FUZZ_CHECK(line->key.find('#') == std::string::npos);
    FUZZ_CHECK(line->value.find('#') == std::string::npos);
    if (auto ok = s.set(line->key, line->value, line->where); !ok)
      FUZZ_CHECK(ok.error().code == errc::invalid_config);
    check_redacted(line->value);
  }
  auto shown = s.describe();
  FUZZ_CHECK(!shown.empty());
  return 0;
}
