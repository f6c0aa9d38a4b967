// line_stream.hpp -- the files dump writes and restore reads: lines, plain
// or gzip (zlib from Debian), a path or stdin/stdout ("-"). CAF-free.
//
// Writing: to "-" (stdout) as it goes; to a path through a temporary file
// beside it ("<path>.partial-XXXXXX", mode 0600: a dump holds private
// keys), renamed to the path by commit() once everything is written and
// flushed, so a path names a complete dump or nothing of this run.
// Reading: zlib's gzread, which reads a gzip file and a plain one alike, so
// restore detects gzip input by itself. A line longer than the bound given
// is an error for that line only; the reader skips to the next newline.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "messages/errors.hpp"

namespace authstore {

/// Writes lines to a dump file or stdout.
class line_writer {
public:
  /// Opens `path` ("-": stdout); gzip-compressed when `gzip`.
  static outcome<std::unique_ptr<line_writer>> open(const std::string& path,
                                                    bool gzip);
  ~line_writer();
  line_writer(const line_writer&) = delete;
  line_writer& operator=(const line_writer&) = delete;

  /// Appends `line` and a newline. Errors: internal (I/O).
  outcome<bool> write(const std::string& line);

  /// Flushes and closes; renames the temporary file to the path. Without
  /// it (an error, a crash) the temporary file is removed (or left, after
  /// a crash) and the path is untouched.
  outcome<bool> commit();

  struct impl;

private:
  explicit line_writer(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

/// Reads lines from a dump file or stdin, gzip or plain.
class line_reader {
public:
  /// Opens `path` ("-": stdin).
  static outcome<std::unique_ptr<line_reader>> open(const std::string& path);
  ~line_reader();
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  /// The next line without its newline into `line`; false at the end.
  /// Errors: value_too_large (the line is over `max_bytes`; it is skipped),
  /// internal (I/O or a damaged gzip stream; reading stops).
  outcome<bool> next(std::string& line, size_t max_bytes);

  /// Bytes of the file consumed so far and its size (0: unknown, e.g. a
  /// pipe), for progress.
  uint64_t offset() const;
  uint64_t size() const;

  struct impl;

private:
  explicit line_reader(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
