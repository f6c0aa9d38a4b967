// progress.cpp -- progress lines and summaries (progress.hpp).
#include "runtime/cli/progress.hpp"

#include <cstdio>
#include <unistd.h>

namespace authstore {

namespace {

/// Interval between lines on a terminal and in a log.
constexpr std::chrono::milliseconds tty_interval{250};
constexpr std::chrono::milliseconds log_interval{5000};

std::string fixed(double x, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, x);
  return buf;
}

} // namespace

progress_meter::progress_meter(std::string verb, bool forced)
    : verb_(std::move(verb)), tty_(::isatty(STDERR_FILENO) == 1),
      start_(clock::now()), interval_(tty_ ? tty_interval : log_interval) {
  enabled_ = tty_ || forced;
}

double progress_meter::elapsed_s() const {
  return std::chrono::duration<double>(clock::now() - start_).count();
}

void progress_meter::update(const move_tally& t, uint64_t total, uint64_t bytes,
                            uint64_t bytes_total) {
  if (!enabled_)
    return;
  auto now = clock::now();
  if (now - last_ < interval_)
    return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(t.done()) / secs : 0;
  std::string line = "authstore " + verb_ + ": " + std::to_string(t.done());
  if (total > 0)
    line += "/" + std::to_string(total);
  line += " sessions, " + fixed(rate, 1) + "/s, " + std::to_string(t.keys)
          + " keys";
  if (t.failed > 0)
    line += ", " + std::to_string(t.failed) + " failed";
  double share = total > 0         ? static_cast<double>(t.done()) / total
                 : bytes_total > 0 ? static_cast<double>(bytes) / bytes_total
                                   : 0;
  if (bytes_total > 0)
    line += ", " + fixed(100 * share, 0) + " % read";
  if (share > 0 && share < 1)
    line += ", ETA " + fixed(secs * (1 - share) / share, 1) + " s";
  if (tty_) {
    std::fprintf(stderr, "\r%s\x1b[K", line.c_str());
    dirty_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void progress_meter::finish() {
  if (dirty_)
    std::fputc('\n', stderr);
  dirty_ = false;
}

std::string progress_meter::summary(const move_tally& t, const char* done_word,
                                    const char* unchanged_word) const {
  double secs = elapsed_s();
  auto per_s = [&](uint64_t n) {
    return fixed(secs > 0 ? static_cast<double>(n) / secs : 0, 1);
  };
  return std::to_string(t.imported) + " " + done_word + ", "
         + std::to_string(t.unchanged) + " " + unchanged_word + ", "
         + std::to_string(t.failed) + " failed; " + std::to_string(t.keys)
         + " keys in " + fixed(secs, 2) + " s (" + per_s(t.done())
         + " sessions/s, " + per_s(t.keys) + " keys/s)";
}

} // namespace authstore
