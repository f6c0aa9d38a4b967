// crypto_test_support.hpp -- what the encryption-at-rest tests (issue #17)
// share: a generated key ring file and the session they store
// (encryption_redistest, rekey_sweeper_redistest, canary_redistest).
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
#include "messages/model.hpp"

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
    std::ofstream out{path, std::ios::trunc};
    for (const auto& id : ids)
      out << line(id) << "\n";
  }
  /// The ring line of `id` (`<id> <base64 key>`), generated on first use
  /// and the same for the whole test process.
  static const std::string& line(const std::string& id) {
    static std::map<std::string, std::string> lines;
    if (!lines.count(id)) {
      auto generated = crypto::new_key_line(id);
      REQUIRE(generated);
      lines[id] = *generated;
    }
    return lines[id];
  }
  ~key_file() { std::remove(path.c_str()); }
};

/// The session the encryption tests store: two creds fields, two keys.
inline patch some_session(const std::string& tag) {
  patch p;
  p.set_creds("me", R"({"id":")" + tag + R"(@s.whatsapp.net"})");
  p.set_creds("registered", "true");
  p.set_key("pre-key", "1", R"({"private":")" + tag + R"(-1"})");
  p.set_key("pre-key", "2", R"({"private":")" + tag + R"(-2"})");
  return p;
}

} // namespace authstore::test
