// useMultiFileAuthState folders in and out (runtime/cli/baileys_folder.hpp),
// on the file system only (no store): folders made from the fixtures that
// baileys@7.0.0-rc14 wrote, in the v7 and the pre-rc.4 number-array form,
// hostile folders, and exports compared byte for byte with Baileys' files.
#include "runtime/cli/baileys_folder.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/folder_fixtures.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace baileys_folder_test {

using namespace authstore;
using namespace authstore::test;

TEST_CASE("a folder Baileys wrote reads as one patch: creds fields and "
          "every key, values as Baileys wrote them",
          "[baileys-folder][issue-16]") {
  temp_dir tmp;
  auto dir = tmp.path + "/alice";
  auto files = copy_fixture_folder("baileys-v7", "alice", dir);
  auto read = read_baileys_folder(dir, patch_limits{});
  INFO(read_error(read));
  REQUIRE(read);
  CHECK(read->keys == files.size() - 1);
  CHECK(read->unknown_type_keys == 0);
  std::map<std::string, std::string> keys;
  size_t creds = 0;
  for (const auto& w : read->writes.writes) {
    CHECK_FALSE(w.erase);
    if (w.field.compare(0, 2, "c:") == 0)
      ++creds;
    else
      keys[w.field] = w.value;
  }
  CHECK(creds == 20); // alice's creds.json has 20 members
  // Each key value is its file's text, byte for byte (the v7 form is what
  // the codec writes).
  CHECK(keys.at("k:pre-key/1") == files.at("pre-key-1.json"));
  CHECK(
    keys.at("k:sender-key/120363000000000001@g.us::15550001111::12")
    == files.at("sender-key-120363000000000001@g.us--15550001111--12.json"));
  CHECK(keys.at("k:app-state-sync-key/AAAAAFoc")
        == files.at("app-state-sync-key-AAAAAFoc.json"));
  CHECK(keys.size() == files.size() - 1);
}

TEST_CASE("a pre-rc.4 folder (number-array Buffers, Uint8Array objects) "
          "reads as the v7 form Baileys 7 writes",
          "[baileys-folder][issue-16]") {
  for (auto owner : {"alice", "bob"}) {
    INFO(owner);
    temp_dir tmp;
    auto num = tmp.path + "/num";
    auto v7 = tmp.path + "/v7";
    copy_fixture_folder("baileys-numarray", owner, num);
    copy_fixture_folder("baileys-v7", owner, v7);
    auto a = read_baileys_folder(num, patch_limits{});
    auto b = read_baileys_folder(v7, patch_limits{});
    INFO(read_error(a));
    REQUIRE(a);
    REQUIRE(b);
    auto as_map = [](const patch& p) {
      std::map<std::string, std::string> m;
      for (const auto& w : p.writes)
        m[w.field] = w.value;
      return m;
    };
    CHECK(as_map(a->writes) == as_map(b->writes));
  }
}

TEST_CASE("files of unknown key types pass through", "[baileys-folder]"
                                                     "[issue-16]") {
  temp_dir tmp;
  auto dir = tmp.path + "/s";
  copy_fixture_folder("baileys-v7", "bob", dir);
  write_file(dir + "/new-type-abc_1.json",
             R"({"x":{"type":"Buffer","data":[1]}})");
  auto read = read_baileys_folder(dir, patch_limits{});
  INFO(read_error(read));
  REQUIRE(read);
  CHECK(read->unknown_type_keys == 1);
  bool found = false;
  for (const auto& w : read->writes.writes)
    if (w.field == "k:new-type/abc_1") {
      found = true;
      CHECK(w.value == R"({"x":{"type":"Buffer","data":"AQ=="}})");
    }
  CHECK(found);
}

TEST_CASE("a hostile or broken folder is refused whole, naming the file and "
          "the reason",
          "[baileys-folder][issue-16]") {
  temp_dir outside;
  write_file(outside.path + "/secret.json", R"({"private":"key"})");
  struct hostile {
    const char* what;
    std::function<void(const std::string& dir)> spoil;
    const char* file;
    const char* reason;
  };
  const std::vector<hostile> cases = {
    {"invalid JSON",
     [](auto& d) { write_file(d + "/pre-key-9.json", "{\"a\":"); },
     "pre-key-9.json", "invalid_argument"},
    {"a truncated file",
     [](auto& d) {
       auto text = read_file(d + "/session-15550001111.12.json");
       write_file(d + "/session-15550001111.12.json",
                  text.substr(0, text.size() / 2));
     },
     "session-15550001111.12.json", "invalid_argument"},
    {"a truncated creds.json",
     [](auto& d) {
       auto text = read_file(d + "/creds.json");
       write_file(d + "/creds.json", text.substr(0, text.size() - 3));
     },
     "creds.json", "invalid_argument"},
    {"a symlink pointing outside",
     [&](auto& d) {
       REQUIRE(::symlink((outside.path + "/secret.json").c_str(),
                         (d + "/pre-key-77.json").c_str())
               == 0);
     },
     "pre-key-77.json", "symbolic link"},
    {"a symlink inside",
     [](auto& d) {
       REQUIRE(::symlink("pre-key-2.json", (d + "/pre-key-78.json").c_str())
               == 0);
     },
     "pre-key-78.json", "symbolic link"},
    {"a FIFO",
     [](auto& d) {
       REQUIRE(::mkfifo((d + "/pre-key-79.json").c_str(), 0600) == 0);
     },
     "pre-key-79.json", "FIFO"},
    {"a 100 MB file",
     [](auto& d) {
       int fd
         = ::open((d + "/session-1.0.json").c_str(), O_WRONLY | O_CREAT, 0600);
       REQUIRE(fd >= 0);
       REQUIRE(::ftruncate(fd, 100 << 20) == 0); // sparse: no 100 MB written
       ::close(fd);
     },
     "session-1.0.json", "refused without reading it"},
    {"a name with a path separator",
     [](auto& d) { write_file(d + "/pre-key-..\\..\\x.json", "{}"); },
     "pre-key-..\\..\\x.json", "path separator"},
    {"a file that is no Baileys file",
     [](auto& d) { write_file(d + "/notes.txt", "hello"); }, "notes.txt",
     "not a Baileys file"},
    {"a key holding null",
     [](auto& d) { write_file(d + "/pre-key-80.json", "null"); },
     "pre-key-80.json", "holds null"},
    {"a folder inside",
     [](auto& d) {
       REQUIRE(::mkdir((d + "/pre-key-81.json").c_str(), 0700) == 0);
     },
     "pre-key-81.json", "folder inside"},
    {"no creds.json", [](auto& d) { ::unlink((d + "/creds.json").c_str()); },
     "creds.json", "missing"},
    {"creds.json not an object",
     [](auto& d) { write_file(d + "/creds.json", "[1,2]"); }, "creds.json",
     "not a JSON object"},
    {"a value over codec.max-value-bytes",
     [](auto& d) {
       write_file(d + "/pre-key-82.json",
                  "\"" + std::string((1 << 20) + 10, 'A') + "\"");
     },
     "pre-key-82.json", "codec.max-value-bytes"},
    {"a value too deep",
     [](auto& d) {
       write_file(d + "/pre-key-83.json",
                  std::string(40, '[') + std::string(40, ']'));
     },
     "pre-key-83.json", "too_deep"},
  };
  for (const auto& c : cases) {
    INFO(c.what);
    temp_dir tmp;
    auto dir = tmp.path + "/bob";
    copy_fixture_folder("baileys-v7", "bob", dir);
    c.spoil(dir);
    auto read = read_baileys_folder(dir, patch_limits{});
    REQUIRE_FALSE(read);
    INFO(read.error().render());
    CHECK(read.error().detail.rfind(std::string{c.file} + ": ", 0) == 0);
    CHECK(read.error().render().find(c.reason) != std::string::npos);
  }
}

TEST_CASE("a folder larger than one patch is refused while it is read",
          "[baileys-folder][issue-16]") {
  temp_dir tmp;
  auto dir = tmp.path + "/big";
  copy_fixture_folder("baileys-v7", "bob", dir);
  for (int i = 100; i < 130; ++i)
    write_file(dir + "/pre-key-" + std::to_string(i) + ".json",
               read_file(dir + "/pre-key-2.json"));
  patch_limits small;
  small.max_writes = 25;
  auto read = read_baileys_folder(dir, small);
  REQUIRE_FALSE(read);
  CHECK(read.error().code == errc::too_many_fields);
  CHECK(read.error().detail.find("codec.max-writes") != std::string::npos);
  patch_limits tight;
  tight.max_patch_bytes = 4000;
  auto by_bytes = read_baileys_folder(dir, tight);
  REQUIRE_FALSE(by_bytes);
  CHECK(by_bytes.error().detail.find("codec.max-patch-bytes")
        != std::string::npos);
}

TEST_CASE("an export writes Baileys' own files byte for byte, creds.json "
          "included, and reads back as the same session",
          "[baileys-folder][issue-16]") {
  for (auto owner : {"alice", "bob"}) {
    INFO(owner);
    temp_dir tmp;
    auto src = tmp.path + "/src";
    auto files = copy_fixture_folder("baileys-v7", owner, src);
    auto read = read_baileys_folder(src, patch_limits{});
    REQUIRE(read);
    // The fields in an order Redis might return them: reversed.
    session_snapshot snap{true, 9, read->writes.writes};
    std::reverse(snap.fields.begin(), snap.fields.end());
    auto out = tmp.path + "/out";
    auto keys = write_baileys_folder(out, snap, false);
    INFO(read_error(keys));
    REQUIRE(keys);
    CHECK(*keys == files.size() - 1);
    auto written = list_files(out);
    CHECK(written.size() == files.size());
    for (const auto& [name, text] : files) {
      INFO(name);
      CHECK(read_file(out + "/" + name) == text);
      struct stat st;
      REQUIRE(::stat((out + "/" + name).c_str(), &st) == 0);
      CHECK((st.st_mode & 0777) == 0600);
    }
    // Nothing left beside it.
    CHECK(list_files(tmp.path).size() == 2);
  }
}

TEST_CASE("an export never leaves a half folder: refused targets and "
          "collisions leave nothing, --force swaps",
          "[baileys-folder][issue-16]") {
  temp_dir tmp;
  session_snapshot snap{
    true,
    3,
    {{"c:me", false, R"({"id":"x"})"}, {"k:pre-key/1", false, R"({"a":1})"}}};
  auto out = tmp.path + "/out";
  REQUIRE(::mkdir(out.c_str(), 0700) == 0);
  write_file(out + "/keep.txt", "mine");
  auto refused = write_baileys_folder(out, snap, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().detail.find("not empty; --force") != std::string::npos);
  CHECK(list_files(out) == std::vector<std::string>{"keep.txt"});
  CHECK(list_files(tmp.path).size() == 1);
  auto forced = write_baileys_folder(out, snap, true);
  REQUIRE(forced);
  CHECK(list_files(out)
        == std::vector<std::string>{"creds.json", "pre-key-1.json"});
  CHECK(list_files(tmp.path).size() == 1); // the old contents are gone
  // An empty folder is filled without --force.
  auto empty = tmp.path + "/empty";
  REQUIRE(::mkdir(empty.c_str(), 0700) == 0);
  CHECK(write_baileys_folder(empty, snap, false));
  // Two ids fixFileName maps to one name: refused, nothing written.
  session_snapshot clash{true,
                         3,
                         {{"c:me", false, "1"},
                          {"k:session/a:b", false, "1"},
                          {"k:session/a-b", false, "2"}}};
  auto target = tmp.path + "/clash";
  auto c = write_baileys_folder(target, clash, false);
  REQUIRE_FALSE(c);
  CHECK(c.error().detail.find("two keys have this file name")
        != std::string::npos);
  struct stat st;
  CHECK(::lstat(target.c_str(), &st) != 0);
  CHECK(list_files(tmp.path).size() == 2); // out, empty: no temporary left
  // A symlink as the target is refused.
  REQUIRE(::symlink(out.c_str(), (tmp.path + "/link").c_str()) == 0);
  CHECK_FALSE(write_baileys_folder(tmp.path + "/link", snap, true));
}

} // namespace baileys_folder_test
