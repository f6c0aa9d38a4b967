// progress.hpp -- the progress line of import, export-like walks (dump) and
// restore, and their closing summary. CAF-free.
//
// Progress goes to stderr only when it is a terminal, or when asked
// (--progress): on a terminal one line rewritten in place ("\r"), otherwise
// one line per interval, so a log is not filled with carriage returns. At
// most one line per `interval` (default 250 ms on a terminal, 5 s
// otherwise): a fast import is not slowed down by its own output.
//   authstore import: 420/1000 sessions, 310.5/s, 12 816 keys, ETA 1.9 s
// With no known total (a walk, a pipe) the count, rate and keys only; with
// a byte total (a restore from a file) the share read and the ETA from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace authstore {

/// What a command counted, for its progress line and summary.
struct move_tally {
  uint64_t imported = 0;
  uint64_t unchanged = 0;
  uint64_t failed = 0;
  /// Key values moved (not creds fields).
  uint64_t keys = 0;
  /// Sessions done in any way.
  uint64_t done() const { return imported + unchanged + failed; }
};

class progress_meter {
public:
  using clock = std::chrono::steady_clock;

  /// `verb` names the command ("import"); `forced`: --progress.
  progress_meter(std::string verb, bool forced);

  /// Whether lines are printed at all.
  bool enabled() const { return enabled_; }

  /// Reports `t` of `total` sessions (0: unknown), and optionally `bytes`
  /// of `bytes_total` read (0: none); prints when an interval has passed.
  void update(const move_tally& t, uint64_t total, uint64_t bytes = 0,
              uint64_t bytes_total = 0);

  /// Ends the in-place line (a newline), so that later output starts on a
  /// line of its own.
  void finish();

  /// Seconds since construction.
  double elapsed_s() const;

  /// "N imported, N unchanged, N failed; K keys in S s (R sessions/s, R
  /// keys/s)": the summary every command prints (with its own nouns for the
  /// first two).
  std::string summary(const move_tally& t, const char* done_word,
                      const char* unchanged_word) const;

private:
  std::string verb_;
  bool enabled_ = false;
  bool tty_ = false;
  bool dirty_ = false;
  clock::time_point start_;
  clock::time_point last_{};
  std::chrono::milliseconds interval_;
};

} // namespace authstore
