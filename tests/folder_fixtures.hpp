// folder_fixtures.hpp -- temporary folders and useMultiFileAuthState
// folders made from the Baileys fixtures, for the import/export tests
// (unit, redis, e2e).
//
// tests/fixtures/baileys-v7/<owner>.<file>.json are the files Baileys'
// useMultiFileAuthState wrote (byte for byte, checked by make-fixtures.mjs);
// copy_fixture_folder puts one owner's files into a folder under their own
// names, as Baileys had them. Tests run from the source tree (CTest's
// working directory). CAF-free.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <ftw.h>
#include <map>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "messages/errors.hpp"

namespace authstore::test {

/// A folder under /tmp, removed with everything in it at the end.
struct temp_dir {
  temp_dir() {
    char tmpl[] = "/tmp/authstore-folder-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~temp_dir() {
    ::nftw(
      path.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        return ::remove(p);
      },
      16, FTW_DEPTH | FTW_PHYS);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string path;
};

inline void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  REQUIRE(out.good());
  out << text;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  INFO(path);
  REQUIRE(in.good());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The names in a folder, sorted ("." and ".." left out).
inline std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> names;
  auto* d = ::opendir(dir.c_str());
  INFO(dir);
  REQUIRE(d != nullptr);
  while (auto* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..")
      names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

/// Makes `dir` a useMultiFileAuthState folder of `owner` ("alice", "bob")
/// from tests/fixtures/<form>/ ("baileys-v7", "baileys-numarray"); returns
/// file name -> contents.
inline std::map<std::string, std::string>
copy_fixture_folder(const std::string& form, const std::string& owner,
                    const std::string& dir) {
  auto src = "tests/fixtures/" + form;
  REQUIRE(::mkdir(dir.c_str(), 0700) == 0);
  std::map<std::string, std::string> files;
  for (const auto& n : list_files(src)) {
    if (n.rfind(owner + ".", 0) != 0)
      continue;
    auto name = n.substr(owner.size() + 1);
    auto text = read_file(src + "/" + n);
    write_file(dir + "/" + name, text);
    files[name] = text;
  }
  REQUIRE(files.count("creds.json") == 1);
  return files;
}

/// "ok" or the failure, for INFO.
template <class T>
std::string read_error(const outcome<T>& x) {
  return x ? std::string{"ok"} : x.error().render();
}

} // namespace authstore::test
