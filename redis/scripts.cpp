// scripts.cpp -- script names and the list of scripts, from the registry
// (redis/scripts.hpp). script_source() lives in the generated source
// <build>/generated/redis_scripts.cpp, made by cmake/embed_lua.cmake from
// the same registry.
#include "redis/scripts.hpp"

namespace authstore::redis_layout {

std::string_view script_name(redis_script which) {
  switch (which) {
#define AUTHSTORE_REDIS_SCRIPT(name, value)                                    \
  case redis_script::name:                                                     \
    return #name;
#include "messages/redis_scripts.def"
#undef AUTHSTORE_REDIS_SCRIPT
    case redis_script::none:
      break;
  }
  return {};
}

const std::vector<redis_script>& all_scripts() {
  static const std::vector<redis_script> scripts = {
#define AUTHSTORE_REDIS_SCRIPT(name, value) redis_script::name,
#include "messages/redis_scripts.def"
#undef AUTHSTORE_REDIS_SCRIPT
  };
  return scripts;
}

} // namespace authstore::redis_layout
