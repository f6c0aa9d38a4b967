// config.hpp -- the one configuration table, and loading it.
//
// Every setting is listed once in config.cpp: name (with its unit), type,
// default, bounds, help, and whether it is a secret. Sources, highest
// precedence first:
//   1. command-line flags   --redis.pool-size 4   (aliases: --redis, --mongodb)
//   2. environment          AUTHSTORE_REDIS_POOL_SIZE=4
//   3. config file          redis.pool-size = 4   (--config FILE or
//                                                  AUTHSTORE_CONFIG)
//   4. the default in the table
// Unknown keys, malformed values and out-of-range values are errors at
// start, each naming its setting. Secret-bearing values (URLs with
// passwords) are redacted whenever shown. CAF-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/errors.hpp"

namespace authstore {

/// One row of the configuration table.
struct setting_spec {
  const char* key;
  enum kind_t { text, integer, boolean } kind;
  const char* default_value;
  int64_t min = 0;
  int64_t max = 0;
  const char* help;
  /// A URL that may carry a password: shown redacted.
  bool secret_url = false;
  /// A short flag alias, e.g. "redis" for --redis.
  const char* alias = nullptr;
};

/// The table (config.cpp).
const std::vector<setting_spec>& setting_specs();

/// The environment variable for `key`: AUTHSTORE_ + upper snake case.
std::string env_name(const std::string& key);

/// Effective settings with where each came from.
class settings {
public:
  /// Loads defaults, then the file, env, and `flags` (key -> value as given
  /// on the command line). Returns every problem found, not just the first.
  static outcome<settings> load(const std::map<std::string, std::string>& flags,
                                std::vector<failure>* problems = nullptr);

  const std::string& text(const std::string& key) const;
  /// Whether `key` has a value; only integers whose default is empty
  /// (api.port) can be unset, and integer() must not be called then.
  bool is_set(const std::string& key) const;
  int64_t integer(const std::string& key) const;
  bool boolean(const std::string& key) const;

  /// "key = value  # source" lines, secrets redacted.
  std::string describe() const;

  /// Overrides one value (validated), e.g. the simulator's own Redis URL.
  outcome<bool> set(const std::string& key, const std::string& value,
                    const std::string& source);

private:
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> sources_;
};

/// Redacts the password of a URL ("redis://:***@host").
std::string redact_url(const std::string& url);

/// Help text for all settings (used by --help and docs/CONFIG.md).
std::string settings_help();

} // namespace authstore
