// log_limit.hpp -- at most one line per interval for an event that repeats
// (issue #15: a cold-store outage logged 48 815 read_through_failed lines in
// 30 s, one per failed read).
//
// Why: a warning that fires once per request says nothing new after the
// first one, and during an outage it costs a write(2) per request on the
// very threads serving the hot path. Design: one limiter per event kind
// (a static beside its log call). The first line is always written; after
// it, at most one line per `every`, carrying `suppressed=N`: how many lines
// of that event were dropped since the previous written one. Dropped lines
// are counted in suppressed_total() (authstore_log_suppressed_total), and the
// event's own counter (e.g. authstore_read_through_total{result="failed"})
// still counts every occurrence. A line dropped at the end of a flood is
// reported by the next line of that event, or only in the counters.
//
// A new sink (log::set_sink, what tests do to capture) resets every
// limiter: whoever starts listening sees each event's first line.
// Thread-safe (one mutex per limiter, taken only for limited events).
// CAF-free, with an injectable clock for tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string_view>

#include "observe/log.hpp"

namespace authstore::log {

/// Interval of the limiters in this code base: a line of a repeated
/// event at most every 10 s (long enough to stop a flood, short enough
/// that an outage still shows up as a line every few seconds of logs).
inline constexpr std::chrono::seconds repeat_interval{10};

/// Rate limit of the lines of one event.
class limiter {
public:
  using clock = std::chrono::steady_clock;

  explicit limiter(clock::duration every = repeat_interval) : every_(every) {}

  /// Whether a line of the event at `now` is written; when it is,
  /// `suppressed` receives the lines dropped since the previous one (and
  /// the count restarts). The first line (and the first after a new sink)
  /// is always written.
  bool admit(clock::time_point now, uint64_t& suppressed);

  /// log::write through admit(now), with `suppressed=N` appended when lines
  /// were dropped before this one. Nothing is counted below the level.
  void write(level x, std::string_view component, std::string_view event,
             std::initializer_list<field> fields = {});

private:
  clock::duration every_;
  std::mutex mtx_;
  bool written_ = false;
  uint64_t generation_ = 0;
  clock::time_point last_{};
  uint64_t suppressed_ = 0;
};

/// Lines all limiters dropped since the process started.
uint64_t suppressed_total();

} // namespace authstore::log
