// log.hpp -- structured log lines (logfmt), one per event, with a level.
//
// Why: operators grep and ship logs; one `key=value` line per event with a
// timestamp, level, component and event name is parseable by every log
// pipeline and still readable by a person. Correlation: lines about one
// write carry `session=` and `version=`; the version travels with the write
// through the session actor, its persist (`version=` V, the marks it
// clears are <= V) and the reconciler, so `session=S version=V` follows one
// write through the actors.
//
// Secrets: callers pass identifiers, counts, error tokens and error details
// only; details in this code base never contain values (creds, keys) or
// passwords (tests/redis/canary_redistest.cpp checks every path). Values
// that contain spaces, quotes or `=` are quoted and escaped, control
// characters escaped, so a line stays one line.
//
// Thread-safe: the level is an atomic; a line is formatted first and then
// written with one write() call (no interleaving below PIPE_BUF). CAF-free.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace authstore::log {

/// Severity of a line.
enum class level : uint8_t {
  debug = 0,
  info = 1,
  warn = 2,
  error = 3,
  off = 4
};

/// The level named `name` (debug, info, warn, error, off).
std::optional<level> parse_level(std::string_view name);

/// Lines below `x` are dropped (default info).
void set_level(level x);

/// Whether a line at `x` would be written (skip building costly fields).
bool enabled(level x);

/// Where lines go (default: stderr). Tests capture them; pass {} to reset.
void set_sink(std::function<void(std::string_view line)> sink);

/// One `key=value` pair of a line.
using field = std::pair<std::string_view, std::string>;

/// Writes `ts=... level=... component=... event=... key=value...`.
void write(level x, std::string_view component, std::string_view event,
           std::initializer_list<field> fields = {});

/// write() with the fields in [first, last) (log_limit.hpp appends one).
void write_fields(level x, std::string_view component, std::string_view event,
                  const field* first, const field* last);

/// Bumped by every set_sink(): log_limit.hpp's limiters start over.
uint64_t sink_generation();

} // namespace authstore::log
