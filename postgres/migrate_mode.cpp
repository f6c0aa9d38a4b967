// migrate_mode.cpp -- the tokens of migrate_mode (migrate_mode.hpp).
#include "postgres/migrate_mode.hpp"

namespace authstore {

std::string_view to_string(migrate_mode x) {
  switch (x) {
    case migrate_mode::check:
      return "never";
    case migrate_mode::create:
      return "if-missing";
    case migrate_mode::apply:
      return "always-up";
  }
  return "never";
}

std::optional<migrate_mode> migrate_mode_of(std::string_view token) {
  for (auto x :
       {migrate_mode::check, migrate_mode::create, migrate_mode::apply})
    if (token == to_string(x))
      return x;
  return std::nullopt;
}

} // namespace authstore
