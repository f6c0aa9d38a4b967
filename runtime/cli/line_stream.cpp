// line_stream.cpp -- dump files through zlib's gzFile (line_stream.hpp).
// A plain file is a gzFile too: written in zlib's transparent mode ("wT"),
// read by gzread's transparent pass-through of data that is not gzip.
#include "runtime/cli/line_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace authstore {

namespace {

/// zlib's buffer per direction: large enough that a dump line of a typical
/// session (a few KiB to a few MiB) takes few system calls.
constexpr unsigned gz_buffer_bytes = 256u << 10;

failure io_error(const std::string& what, int err) {
  return {errc::internal, what + ": " + std::strerror(err)};
}

std::string gz_message(gzFile f) {
  int code = 0;
  const char* msg = gzerror(f, &code);
  if (code == Z_ERRNO)
    return std::strerror(errno);
  return msg ? msg : "unknown zlib error";
}

} // namespace

// -- line_writer -------------------------------------------------------------

struct line_writer::impl {
  gzFile gz = nullptr;
  /// Our own descriptor of the output (gzclose closes zlib's copy), for
  /// fsync before the rename; -1 for stdout.
  int fd = -1;
  std::string path;
  std::string tmp;
  bool committed = false;
};

line_writer::line_writer(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

line_writer::~line_writer() {
  if (impl_->gz)
    gzclose(impl_->gz);
  if (impl_->fd >= 0)
    ::close(impl_->fd);
  if (!impl_->committed && !impl_->tmp.empty())
    ::unlink(impl_->tmp.c_str());
}

outcome<std::unique_ptr<line_writer>> line_writer::open(const std::string& path,
                                                        bool gzip) {
  auto x = std::make_unique<impl>();
  x->path = path;
  int out = -1;
  if (path == "-") {
    out = ::dup(STDOUT_FILENO);
    if (out < 0)
      return io_error("cannot use stdout", errno);
  } else {
    x->tmp = path + ".partial-XXXXXX";
    out = ::mkostemp(x->tmp.data(), O_CLOEXEC); // mode 0600
    if (out < 0) {
      x->tmp.clear();
      return io_error("cannot create a file beside " + path, errno);
    }
    x->fd = ::dup(out);
  }
  x->gz = gzdopen(out, gzip ? "wb6" : "wT");
  if (!x->gz) {
    ::close(out);
    return failure{errc::internal, "cannot start zlib on " + path};
  }
  gzbuffer(x->gz, gz_buffer_bytes);
  return std::unique_ptr<line_writer>{new line_writer(std::move(x))};
}

outcome<bool> line_writer::write(const std::string& line) {
  auto put = [&](const char* data, size_t n) {
    while (n > 0) {
      auto chunk = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      int w = gzwrite(impl_->gz, data, chunk);
      if (w <= 0)
        return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  };
  if (!put(line.data(), line.size()) || !put("\n", 1))
    return failure{errc::internal, "cannot write " + impl_->path + ": "
                                     + gz_message(impl_->gz)};
  return true;
}

outcome<bool> line_writer::commit() {
  int rc = gzclose(impl_->gz);
  impl_->gz = nullptr;
  if (rc != Z_OK)
    return failure{errc::internal, "cannot finish " + impl_->path
                                     + " (zlib error " + std::to_string(rc)
                                     + ")"};
  if (impl_->tmp.empty()) {
    impl_->committed = true;
    return true;
  }
  if (::fsync(impl_->fd) != 0)
    return io_error("cannot flush " + impl_->tmp, errno);
  if (::rename(impl_->tmp.c_str(), impl_->path.c_str()) != 0)
    return io_error("cannot rename " + impl_->tmp + " to " + impl_->path,
                    errno);
  impl_->committed = true;
  return true;
}

// -- line_reader -------------------------------------------------------------

struct line_reader::impl {
  gzFile gz = nullptr;
  uint64_t size = 0;
  std::string path;
  /// Bytes read past the last line returned.
  std::string pending;
  bool eof = false;
};

line_reader::line_reader(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

line_reader::~line_reader() {
  if (impl_->gz)
    gzclose(impl_->gz);
}

outcome<std::unique_ptr<line_reader>>
line_reader::open(const std::string& path) {
  auto x = std::make_unique<impl>();
  x->path = path;
  int in = path == "-" ? ::dup(STDIN_FILENO)
                       : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return io_error("cannot open " + path, errno);
  struct stat st;
  if (::fstat(in, &st) == 0 && S_ISREG(st.st_mode))
    x->size = static_cast<uint64_t>(st.st_size);
  x->gz = gzdopen(in, "rb");
  if (!x->gz) {
    ::close(in);
    return failure{errc::internal, "cannot start zlib on " + path};
  }
  gzbuffer(x->gz, gz_buffer_bytes);
  return std::unique_ptr<line_reader>{new line_reader(std::move(x))};
}

outcome<bool> line_reader::next(std::string& line, size_t max_bytes) {
  auto& x = *impl_;
  bool too_long = false;
  bool any = false; // a byte of this line was seen
  line.clear();
  auto take = [&](size_t n) {
    any = any || n > 0;
    if (too_long)
      return;
    if (line.size() + n > max_bytes) {
      too_long = true;
      line.clear();
      return;
    }
    line.append(x.pending, 0, n);
  };
  auto done = [&]() -> outcome<bool> {
    if (too_long)
      return failure{errc::value_too_large, "a line longer than "
                                              + std::to_string(max_bytes)
                                              + " bytes: skipped"};
    return true;
  };
  for (;;) {
    auto nl = x.pending.find('\n');
    if (nl != std::string::npos) {
      take(nl);
      x.pending.erase(0, nl + 1);
      return done();
    }
    take(x.pending.size());
    x.pending.clear();
    if (x.eof)
      return any ? done() : outcome<bool>{false};
    char buf[64 << 10];
    int n = gzread(x.gz, buf, sizeof buf);
    if (n < 0)
      return failure{errc::internal,
                     "cannot read " + x.path + ": " + gz_message(x.gz)};
    if (n > 0) {
      x.pending.append(buf, static_cast<size_t>(n));
      continue;
    }
    x.eof = true;
    int code = Z_OK;
    gzerror(x.gz, &code);
    if (code == Z_BUF_ERROR) // zlib: the stream ended before its end
      return failure{errc::internal, x.path
                                       + ": the gzip stream ends early "
                                         "(a truncated file?)"};
    if (code != Z_OK)
      return failure{errc::internal,
                     "cannot read " + x.path + ": " + gz_message(x.gz)};
  }
}

uint64_t line_reader::offset() const {
  auto off = gzoffset(impl_->gz);
  return off < 0 ? 0 : static_cast<uint64_t>(off);
}

uint64_t line_reader::size() const {
  return impl_->size;
}

} // namespace authstore
