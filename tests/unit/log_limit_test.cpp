// Tests of observe/log_limit.hpp: one line per interval for a repeated event,
// the first always, the count of the dropped ones in the next line and in
// the process-wide counter (issue #15's log flood).
#include "observe/log_limit.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace log_limit_test {

using namespace authstore;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// Captures lines for the test's lifetime (a new sink resets limiters).
struct captured {
  std::vector<std::string> lines;
  captured() {
    log::set_sink([this](std::string_view l) { lines.emplace_back(l); });
  }
  ~captured() { log::set_sink({}); }
};

} // namespace

TEST_CASE("the first line of an event is always written, the repeats within "
          "the interval are dropped and counted",
          "[log-limit]") {
  captured c;
  log::limiter uut{10s};
  auto t0 = clock_type::now();
  uint64_t suppressed = 99;
  CHECK(uut.admit(t0, suppressed));
  CHECK(suppressed == 0);
  auto before = log::suppressed_total();
  for (int i = 1; i <= 5; ++i)
    CHECK_FALSE(uut.admit(t0 + i * 1s, suppressed));
  CHECK(log::suppressed_total() - before == 5);
  // Exactly the interval after the last written line: written, with the
  // count of what was dropped since.
  CHECK(uut.admit(t0 + 10s, suppressed));
  CHECK(suppressed == 5);
  CHECK_FALSE(uut.admit(t0 + 19s, suppressed));
  CHECK(uut.admit(t0 + 20s, suppressed));
  CHECK(suppressed == 1);
  CHECK(uut.admit(t0 + 60s, suppressed));
  CHECK(suppressed == 0);
}

TEST_CASE("a limited line says how many lines it stands for", "[log-limit]") {
  captured c;
  log::limiter uut{1h};
  for (int i = 0; i < 1000; ++i)
    uut.write(log::level::warn, "session", "read_through_failed",
              {{"session", "s" + std::to_string(i)}, {"reason", "x"}});
  REQUIRE(c.lines.size() == 1);
  CHECK(c.lines[0].find("event=read_through_failed session=s0 reason=x")
        != std::string::npos);
  CHECK(c.lines[0].find("suppressed=") == std::string::npos);
  log::limiter fast{1ns};
  uint64_t ignored = 0;
  REQUIRE(fast.admit(clock_type::now(), ignored)); // the first
  fast.write(log::level::warn, "c", "e", {{"k", "v"}});
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[1].find("event=e k=v") != std::string::npos);
}

TEST_CASE("the line after a flood carries the number dropped before it",
          "[log-limit]") {
  captured c;
  log::limiter uut{50ms};
  uut.write(log::level::warn, "c", "e");
  uut.write(log::level::warn, "c", "e");
  uut.write(log::level::warn, "c", "e");
  auto until = clock_type::now() + 60ms;
  while (clock_type::now() < until) {
  }
  uut.write(log::level::warn, "c", "e", {{"k", "v"}});
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[1].find("event=e k=v suppressed=2") != std::string::npos);
}

TEST_CASE("a new sink sees the first line of an event again", "[log-limit]") {
  log::limiter uut{1h};
  {
    captured first;
    uut.write(log::level::warn, "c", "e");
    uut.write(log::level::warn, "c", "e");
    CHECK(first.lines.size() == 1);
  }
  captured second;
  uut.write(log::level::warn, "c", "e");
  REQUIRE(second.lines.size() == 1);
  // What the old sink dropped is not the new one's to report.
  CHECK(second.lines[0].find("suppressed=") == std::string::npos);
}

TEST_CASE("lines below the level are neither written nor counted",
          "[log-limit]") {
  captured c;
  log::limiter uut{1h};
  auto before = log::suppressed_total();
  uut.write(log::level::debug, "c", "e"); // default level: info
  uut.write(log::level::debug, "c", "e");
  CHECK(c.lines.empty());
  CHECK(log::suppressed_total() == before);
  uut.write(log::level::warn, "c", "e"); // still the first line
  CHECK(c.lines.size() == 1);
}

} // namespace log_limit_test
