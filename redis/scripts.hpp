// scripts.hpp -- the Lua scripts the Redis actor loads, by redis_script.
//
// Why a file of its own: the scripts are code (redis/scripts/<name>.lua,
// each opening with its KEYS, ARGV and reply), embedded at build time by
// cmake/embed_lua.cmake into a generated source that defines
// script_source(). The registry messages/redis_scripts.def is the one list
// the enum, the sources, the names and all_scripts() derive from.
//
// Guarantees: every registered script has a source whose first line is its
// "#!lua" shebang, exactly as written in its file (Redis 7 reads the
// flags, such as no-writes and allow-oom, from it); includes are expanded.
// CAF-free.
#pragma once

#include <string_view>
#include <vector>

#include "messages/redis_wire.hpp"

namespace authstore::redis_layout {

/// Source text of a script (what SCRIPT LOAD receives); empty for
/// redis_script::none and values outside the registry.
std::string_view script_source(redis_script which);

/// Name of a script, the stem of its file redis/scripts/<name>.lua; empty
/// for redis_script::none and values outside the registry.
std::string_view script_name(redis_script which);

/// Every registered script once, in registry order, for loading at connect.
const std::vector<redis_script>& all_scripts();

} // namespace authstore::redis_layout
