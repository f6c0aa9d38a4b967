// key_file.hpp -- a generated key ring file for the encryption tests
// (issue #17): encryption_redistest and rekey_sweeper_redistest.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>
#include <vector>

#include "crypto/key_ring.hpp"

namespace authstore::test {

/// A key file with `ids` (the first active), generated; removed with it.
struct key_file {
  std::string path;
  explicit key_file(const std::vector<std::string>& ids) {
    char name[] = "/tmp/authstore-keys-XXXXXX";
    int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::close(fd);
    path = name;
    write(ids);
  }
  /// Rewrites the file: the same key for an id as before.
  void write(const std::vector<std::string>& ids) {
    static std::map<std::string, std::string> lines;
    std::ofstream out{path, std::ios::trunc};
    for (const auto& id : ids) {
      if (!lines.count(id)) {
        auto line = crypto::new_key_line(id);
        REQUIRE(line);
        lines[id] = *line;
      }
      out << lines[id] << "\n";
    }
  }
  ~key_file() { std::remove(path.c_str()); }
};

} // namespace authstore::test
