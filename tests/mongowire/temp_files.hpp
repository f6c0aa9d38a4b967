// temp_files.hpp -- the temporary files the scripted MongoDB servers
// (mock_mongod.hpp, mini_mongod.hpp) write their output and data to.
// Header-only test scaffolding.
#pragma once

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace authstore::test {

/// Creates an empty /tmp/authstore-<prefix>-<what>-XXXXXX and returns its path.
inline std::string make_temp_file(const std::string& prefix, const char* what) {
  std::string path = "/tmp/authstore-" + prefix + "-" + what + "-XXXXXX";
  int fd = mkstemp(path.data());
  if (fd >= 0)
    close(fd);
  return path;
}

/// The whole content of `path` ("" when it cannot be read).
inline std::string read_whole_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

} // namespace authstore::test
