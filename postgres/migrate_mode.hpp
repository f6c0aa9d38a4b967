// migrate_mode.hpp -- what a store may do to the schema at start, the
// tokens of the `cold.migrate` setting, and what a migration found and did.
//
// Why a header of its own: the configuration (runtime/node) checks the
// setting's value and the schema code (schema.hpp) acts on it; neither
// should pull libpq's headers into the other. CAF-free, libpq-free.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace authstore {

/// What migrate() may do (schema.hpp).
enum class migrate_mode : uint8_t {
  /// Only read the version; anything but latest_schema_version fails
  /// (token "never": the schema is an operator's job, `authstore migrate`).
  check,
  /// Create the schema in a database that has none (version 0); an older
  /// version is refused like in check mode (token "if-missing").
  create,
  /// Create the schema or apply every missing migration (token
  /// "always-up").
  apply,
};

/// What migrate() found and did (schema.hpp).
struct schema_report {
  /// The version found before (0: no schema_version table).
  int32_t found = 0;
  /// The version now in place.
  int32_t now = 0;
};

/// The setting's token of `x`: "never", "if-missing", "always-up".
std::string_view to_string(migrate_mode x);

/// The mode of a token, or nullopt for anything else.
std::optional<migrate_mode> migrate_mode_of(std::string_view token);

} // namespace authstore
