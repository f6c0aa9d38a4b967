// log.cpp -- see log.hpp.
#include "observe/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace authstore::log {

namespace {

std::atomic<level> threshold{level::info};

// The sink is replaced only by tests, between runs; a shared_ptr copy under
// the mutex keeps a line's sink alive while it writes.
std::mutex sink_mtx;
std::shared_ptr<std::function<void(std::string_view)>> sink;
std::atomic<uint64_t> generation{0};

const char* name(level x) {
  switch (x) {
    case level::debug:
      return "debug";
    case level::info:
      return "info";
    case level::warn:
      return "warn";
    case level::error:
      return "error";
    case level::off:
      break;
  }
  return "off";
}

void append_value(std::string& out, std::string_view v) {
  bool quote = v.empty();
  for (char c : v)
    if (c == ' ' || c == '"' || c == '=' || c == '\\'
        || static_cast<unsigned char>(c) < 0x20)
      quote = true;
  if (!quote) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

std::string timestamp() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto t = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96]; // ints are bounded by gmtime; the compiler cannot know
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

} // namespace

std::optional<level> parse_level(std::string_view n) {
  for (auto x :
       {level::debug, level::info, level::warn, level::error, level::off})
    if (n == name(x))
      return x;
  return std::nullopt;
}

void set_level(level x) {
  threshold.store(x, std::memory_order_relaxed);
}

bool enabled(level x) {
  return x != level::off && x >= threshold.load(std::memory_order_relaxed);
}

void set_sink(std::function<void(std::string_view)> s) {
  std::lock_guard<std::mutex> guard{sink_mtx};
  sink
    = s ? std::make_shared<std::function<void(std::string_view)>>(std::move(s))
        : nullptr;
  generation.fetch_add(1, std::memory_order_relaxed);
}

uint64_t sink_generation() {
  return generation.load(std::memory_order_relaxed);
}

void write(level x, std::string_view component, std::string_view event,
           std::initializer_list<field> fields) {
  write_fields(x, component, event, fields.begin(), fields.end());
}

void write_fields(level x, std::string_view component, std::string_view event,
                  const field* first, const field* last) {
  if (!enabled(x))
    return;
  std::string line = "ts=" + timestamp() + " level=" + name(x) + " component=";
  append_value(line, component);
  line += " event=";
  append_value(line, event);
  for (const auto* f = first; f != last; ++f) {
    const auto& [key, value] = *f;
    line += ' ';
    line += key;
    line += '=';
    append_value(line, value);
  }
  line += '\n';
  std::shared_ptr<std::function<void(std::string_view)>> s;
  {
    std::lock_guard<std::mutex> guard{sink_mtx};
    s = sink;
  }
  if (s) {
    (*s)(line);
    return;
  }
  // One write(2): concurrent lines do not interleave.
  auto n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

} // namespace authstore::log
