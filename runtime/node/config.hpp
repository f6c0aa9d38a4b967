// config.hpp -- the one configuration table, and loading it.
//
// Every setting is listed once in runtime/node/settings.def: name (with its
// unit), type, default, bounds, help, and whether it is a secret. The
// cross-setting rules (a bound that depends on another setting) are
// declared beside the table in config.cpp. Sources, highest
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

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/errors.hpp"

namespace authstore {

/// What a setting holds. millis, seconds and micros are whole numbers whose
/// typed accessor returns the std::chrono type of the unit in the name.
enum class setting_kind : uint8_t {
  text,
  integer,
  boolean,
  millis,
  seconds,
  micros,
  /// A whole number that may be unset (empty default): its accessor
  /// returns std::optional<int64_t> (api.port: unset = no API).
  maybe_integer
};

/// One row of the configuration table (runtime/node/settings.def).
struct setting_spec {
  const char* key;
  setting_kind kind;
  const char* default_value;
  int64_t min = 0;
  int64_t max = 0;
  /// A URL that may carry a password: shown redacted.
  bool secret_url = false;
  /// A short flag alias, e.g. "redis" for --redis.
  const char* alias = nullptr;
  const char* help;

  /// Whether the value is a whole number (integer or a duration).
  bool is_number() const {
    return kind != setting_kind::text && kind != setting_kind::boolean;
  }
};

/// Every setting, by its row in the table.
enum class setting_id : uint16_t {
#define AUTHSTORE_SETTING(id, ...) id,
#include "runtime/node/settings.def"
#undef AUTHSTORE_SETTING
};

/// The table (config.cpp), indexed by setting_id.
const std::vector<setting_spec>& setting_specs();

/// The row of `key` ("redis.url"), or null for an unknown key.
const setting_spec* find_setting(const std::string& key);

/// The environment variable for `key`: AUTHSTORE_ + upper snake case.
std::string env_name(const std::string& key);

namespace detail {

template <setting_kind K>
struct setting_value;

template <>
struct setting_value<setting_kind::text> {
  using type = const std::string&;
};
template <>
struct setting_value<setting_kind::integer> {
  using type = int64_t;
};
template <>
struct setting_value<setting_kind::boolean> {
  using type = bool;
};
template <>
struct setting_value<setting_kind::millis> {
  using type = std::chrono::milliseconds;
};
template <>
struct setting_value<setting_kind::seconds> {
  using type = std::chrono::seconds;
};
template <>
struct setting_value<setting_kind::micros> {
  using type = std::chrono::microseconds;
};
template <>
struct setting_value<setting_kind::maybe_integer> {
  using type = std::optional<int64_t>;
};

} // namespace detail

/// Effective settings with where each came from. Read them through the
/// typed accessors, one per row of the table: `cfg.redis_url()`,
/// `cfg.session_request_timeout_ms()` (a std::chrono::milliseconds), so a
/// misspelled setting is a compile error and each unit is converted once.
class settings {
public:
  /// Loads defaults, then the file, env, and `flags` (key -> value as given
  /// on the command line), then checks the cross-setting rules. Returns
  /// every problem found, not just the first.
  static outcome<settings> load(const std::map<std::string, std::string>& flags,
                                std::vector<failure>* problems = nullptr);

#define AUTHSTORE_SETTING(id, key, kind, ...)                                  \
  detail::setting_value<setting_kind::kind>::type id() const {                 \
    return get<setting_kind::kind>(setting_id::id);                            \
  }
#include "runtime/node/settings.def"
#undef AUTHSTORE_SETTING

  /// Where the value of `id` came from ("default", "--flag", an env
  /// variable, "file:line").
  const std::string& source(setting_id id) const;

  /// "key = value  # source" lines, secrets redacted.
  std::string describe() const;

  /// Overrides one value (validated), e.g. the simulator's own Redis URL.
  outcome<bool> set(const std::string& key, const std::string& value,
                    const std::string& source);

private:
  struct entry {
    std::string text;
    int64_t number = 0;
    std::string source;
  };

  template <setting_kind K>
  typename detail::setting_value<K>::type get(setting_id id) const {
    const auto& e = values_[static_cast<size_t>(id)];
    if constexpr (K == setting_kind::text)
      return e.text;
    else if constexpr (K == setting_kind::boolean)
      return e.number != 0;
    else if constexpr (K == setting_kind::integer)
      return e.number;
    else if constexpr (K == setting_kind::maybe_integer)
      return e.text.empty() ? std::optional<int64_t>{}
                            : std::optional<int64_t>{e.number};
    else
      return typename detail::setting_value<K>::type{e.number};
  }

  std::vector<entry> values_;
};

/// Why a set of TLS files (certificate, key, CA) is incomplete, or "" when
/// all three or none are set: CAF's OpenSSL module turns certificate checks
/// on once any file is set and then needs all of them. The one statement of
/// the rule, used by the table's cross-setting rules and by
/// check_tls_files (runtime/node/node_settings.hpp).
std::string tls_files_incomplete(const std::string& cert,
                                 const std::string& key, const std::string& ca);

/// Redacts the password of a URL ("redis://:***@host").
std::string redact_url(const std::string& url);

/// Help text for all settings (used by --help and docs/CONFIG.md).
std::string settings_help();

/// A config file listing every setting of the table commented out at its
/// default, after its help, bounds and environment variable: what
/// `authstore config --example` prints and the package installs as
/// /etc/authstore/authstore.conf. Depends on the table only (not on the
/// environment or a file), so a new row appears in it with no other edit.
/// Uncommenting any line leaves the effective value unchanged.
std::string settings_example();

} // namespace authstore
