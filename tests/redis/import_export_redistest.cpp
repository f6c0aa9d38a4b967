// Import and export of useMultiFileAuthState folders (issue #16) through a
// real engine on a private redis-server: folders written by
// baileys@7.0.0-rc14 in and out byte for byte, the rules for existing and
// deleted sessions, hostile folders leaving nothing in Redis, --folders,
// racing importers, read-through on export, and --replace reaching the cold
// store (the in-process fake cold store of the outbox tests). Dump and
// restore are in dump_restore_redistest.cpp.
#include "runtime/cli/move.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <map>
#include <thread>
#include <unistd.h>

#include "runtime/cli/baileys_folder.hpp"
#include "tests/folder_fixtures.hpp"
#include "tests/redis/outbox_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace import_export_redistest {

using namespace authstore;
using namespace authstore::test;

namespace {

/// Failures reported by a move, by session.
struct reports {
  std::map<std::string, failure> failed;
  std::map<std::string, failure> notes;
  move_report fn() {
    return [this](const std::string& sid, const failure& f, bool counted) {
      (counted ? failed : notes)[sid] = f;
    };
  }
};

move_tally import(session_store& s, const std::string& dir,
                  const std::string& sid, existing_policy policy, reports& r) {
  progress_meter quiet{"import", false};
  return import_folder(s, dir, sid, policy, quiet, r.fn());
}

/// Exports `sid` into `dir` and returns its files.
std::map<std::string, std::string>
exported(session_store& s, const std::string& sid, const std::string& dir) {
  bool found = false;
  auto keys = export_session(s, sid, dir, false, found);
  INFO(read_error(keys));
  REQUIRE(keys);
  REQUIRE(found);
  std::map<std::string, std::string> files;
  for (const auto& n : list_files(dir))
    files[n] = read_file(dir + "/" + n);
  return files;
}

/// Whether Redis holds any key of session `sid`.
bool redis_has(raw_redis& r, const std::string& sid) {
  for (const char* k : {"m", "c", "k", "o"})
    if (r.integer({"EXISTS", "as:{" + sid + "}:" + k}) != 0)
      return true;
  return false;
}

} // namespace

TEST_CASE("a folder Baileys wrote, imported and exported again, is Baileys' "
          "own folder byte for byte; the number-array form too",
          "[import][export][issue-16]") {
  auto server = start_redis();
  auto e = start_engine(server->url());
  for (auto form : {"baileys-v7", "baileys-numarray"})
    for (auto owner : {"alice", "bob"}) {
      INFO(form << " " << owner);
      temp_dir tmp;
      copy_fixture_folder(form, owner, tmp.path + "/in");
      temp_dir want;
      auto baileys = copy_fixture_folder("baileys-v7", owner, want.path + "/x");
      auto sid = unique_sid(owner);
      reports r;
      auto t = import(*e, tmp.path + "/in", sid, existing_policy::refuse, r);
      INFO((r.failed.empty() ? "" : r.failed.begin()->second.render()));
      CHECK(t.imported == 1);
      CHECK(t.failed == 0);
      CHECK(t.keys == baileys.size() - 1);
      CHECK(exported(*e, sid, tmp.path + "/out") == baileys);
    }
}

TEST_CASE("an existing session is refused, left alone with if-absent (a "
          "no-op), replaced whole with replace; a deleted one does not exist",
          "[import][issue-16][invariant-2]") {
  auto server = start_redis();
  auto e = start_engine(server->url());
  raw_redis raw{server->port()};
  temp_dir tmp;
  copy_fixture_folder("baileys-v7", "alice", tmp.path + "/alice");
  auto bob = copy_fixture_folder("baileys-v7", "bob", tmp.path + "/bob");
  auto sid = unique_sid("existing");
  reports r;
  REQUIRE(
    import(*e, tmp.path + "/alice", sid, existing_policy::refuse, r).imported
    == 1);
  auto before = read_hot(raw, sid);
  CHECK(before.version == 1);
  // Again without a flag: refused, nothing changed.
  auto again = import(*e, tmp.path + "/bob", sid, existing_policy::refuse, r);
  CHECK(again.failed == 1);
  REQUIRE(r.failed.count(sid) == 1);
  CHECK(r.failed[sid].code == errc::version_conflict);
  CHECK(r.failed[sid].detail.find("a live session exists")
        != std::string::npos);
  CHECK(read_hot(raw, sid).fields == before.fields);
  CHECK(read_hot(raw, sid).version == 1);
  // --if-absent twice: unchanged, a no-op (not even the version moves).
  for (int i = 0; i < 2; ++i) {
    auto skip = import(*e, tmp.path + "/bob", sid, existing_policy::skip, r);
    CHECK(skip.unchanged == 1);
    CHECK(skip.imported == 0);
    CHECK(read_hot(raw, sid).version == 1);
    CHECK(read_hot(raw, sid).fields == before.fields);
  }
  // --replace: bob's state only, alice's keys gone, in one write numbered
  // as a delete (2) then a write (3).
  auto rep = import(*e, tmp.path + "/bob", sid, existing_policy::replace, r);
  CHECK(rep.imported == 1);
  auto after = read_hot(raw, sid);
  CHECK(after.version == 3);
  CHECK(exported(*e, sid, tmp.path + "/out") == bob);
  // Deleted: a tombstone is no session, an import without a flag writes,
  // and the version continues above the delete.
  REQUIRE(*e->del(sid));
  auto del_version = read_hot(raw, sid).version;
  auto fresh = import(*e, tmp.path + "/alice", sid, existing_policy::refuse, r);
  CHECK(fresh.imported == 1);
  CHECK(read_hot(raw, sid).version == del_version + 1);
}

TEST_CASE("a hostile folder leaves nothing of its session in Redis",
          "[import][issue-16]") {
  auto server = start_redis();
  auto e = start_engine(server->url());
  raw_redis raw{server->port()};
  temp_dir outside;
  write_file(outside.path + "/x.json", R"({"private":"key"})");
  const std::vector<std::pair<std::string, std::function<void(std::string)>>>
    spoil = {
      {"invalid JSON",
       [](auto d) {
         write_file(d + "/pre-key-9.json", "{\"a\":");
       }},
      {"a symlink outside",
       [&](auto d) {
         REQUIRE(::symlink((outside.path + "/x.json").c_str(),
                           (d + "/pre-key-77.json").c_str())
                 == 0);
       }},
      {"a 100 MB file",
       [](auto d) {
         int fd = ::open((d + "/session-1.0.json").c_str(), O_WRONLY | O_CREAT,
                         0600);
         REQUIRE(fd >= 0);
         REQUIRE(::ftruncate(fd, 100 << 20) == 0);
         ::close(fd);
       }},
      {"a path separator",
       [](auto d) {
         write_file(d + "/pre-key-..\\x.json", "{}");
       }},
      {"a truncated file",
       [](auto d) {
         auto t = read_file(d + "/pre-key-2.json");
         write_file(d + "/pre-key-2.json", t.substr(0, t.size() - 5));
       }},
    };
  for (const auto& [what, fn] : spoil) {
    INFO(what);
    temp_dir tmp;
    auto dir = tmp.path + "/bob";
    copy_fixture_folder("baileys-v7", "bob", dir);
    fn(dir);
    auto sid = unique_sid("hostile");
    reports r;
    auto t = import(*e, dir, sid, existing_policy::replace, r);
    CHECK(t.failed == 1);
    CHECK(t.imported == 0);
    REQUIRE(r.failed.count(sid) == 1);
    CHECK(r.failed[sid].detail.find("nothing of this session was written")
          != std::string::npos);
    CHECK_FALSE(redis_has(raw, sid));
  }
}

TEST_CASE("--folders imports every good sub-folder and reports the others",
          "[import][issue-16]") {
  auto server = start_redis();
  auto e = start_engine(server->url());
  raw_redis raw{server->port()};
  temp_dir tmp;
  auto p = tmp.path;
  auto a = "alice-" + std::to_string(::getpid());
  auto b = "bob-" + std::to_string(::getpid());
  copy_fixture_folder("baileys-v7", "alice", p + "/" + a);
  copy_fixture_folder("baileys-v7", "bob", p + "/" + b);
  copy_fixture_folder("baileys-v7", "bob", p + "/bad name");
  copy_fixture_folder("baileys-v7", "bob", p + "/broken");
  write_file(p + "/broken/pre-key-2.json", "[");
  REQUIRE(::symlink((p + "/" + a).c_str(), (p + "/linked").c_str()) == 0);
  write_file(p + "/README.txt", "not a session");
  reports r;
  progress_meter quiet{"import", false};
  auto t = import_folders(*e, p, existing_policy::refuse, quiet, r.fn());
  CHECK(t.imported == 2);
  CHECK(t.failed == 3);
  CHECK(r.failed.count("bad name") == 1);
  CHECK(r.failed["bad name"].code == errc::invalid_session_id);
  CHECK(r.failed.count("broken") == 1);
  CHECK(r.failed["broken"].detail.find("pre-key-2.json: ")
        != std::string::npos);
  CHECK(r.failed.count("linked") == 1);
  CHECK(r.notes.count("README.txt") == 1);
  CHECK(*e->exists(a));
  CHECK(*e->exists(b));
  CHECK_FALSE(redis_has(raw, "broken"));
  CHECK_FALSE(redis_has(raw, "linked"));
  // The same parent again with if-absent: nothing changes.
  auto again = import_folders(*e, p, existing_policy::skip, quiet, r.fn());
  CHECK(again.unchanged == 2);
  CHECK(again.imported == 0);
  CHECK(read_hot(raw, a).version == 1);
}

TEST_CASE("two importers of one session: exactly one writes, the other is "
          "refused (the check is inside the write)",
          "[import][issue-16][invariant-2]") {
  auto server = start_redis();
  auto e1 = start_engine(server->url());
  auto e2 = start_engine(server->url());
  raw_redis raw{server->port()};
  temp_dir tmp;
  copy_fixture_folder("baileys-v7", "alice", tmp.path + "/alice");
  copy_fixture_folder("baileys-v7", "bob", tmp.path + "/bob");
  for (int round = 0; round < 20; ++round) {
    auto sid = unique_sid("race");
    reports r1, r2;
    move_tally t1, t2;
    std::thread a{[&] {
      t1 = import(*e1, tmp.path + "/alice", sid, existing_policy::refuse, r1);
    }};
    std::thread b{[&] {
      t2 = import(*e2, tmp.path + "/bob", sid, existing_policy::refuse, r2);
    }};
    a.join();
    b.join();
    CHECK(t1.imported + t2.imported == 1);
    CHECK(t1.failed + t2.failed == 1);
    auto hot = read_hot(raw, sid);
    CHECK(hot.version == 1);
    // The winner's state, whole: alice has lid-mapping keys, bob none.
    bool alice_won = t1.imported == 1;
    CHECK((hot.fields.count("k:lid-mapping/15550002222") == 1) == alice_won);
  }
}

TEST_CASE("export reads through: a session only the cold store holds is "
          "loaded and exported",
          "[export][issue-16][read-through]") {
  auto server = start_redis();
  auto ctl = std::make_shared<testing::fake_cold_control>();
  auto e = start_fake_cold_engine(server->url(), ctl);
  raw_redis raw{server->port()};
  temp_dir tmp;
  auto bob = copy_fixture_folder("baileys-v7", "bob", tmp.path + "/bob");
  auto sid = unique_sid("cold-only");
  reports r;
  REQUIRE(
    import(*e, tmp.path + "/bob", sid, existing_policy::refuse, r).imported
    == 1);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, milliseconds{10000}));
  REQUIRE(cold_differs(raw, *ctl, sid).empty());
  // Redis loses the session (expiry, a flush): the cold store still has it.
  for (const char* k : {"m", "c", "k"})
    raw.command({"DEL", "as:{" + sid + "}:" + k});
  auto fresh = start_fake_cold_engine(server->url(), ctl);
  CHECK(exported(*fresh, sid, tmp.path + "/out") == bob);
}

TEST_CASE("replace reaches the cold store: the old keys go there too",
          "[import][issue-16][invariant-3]") {
  auto server = start_redis();
  auto ctl = std::make_shared<testing::fake_cold_control>();
  auto e = start_fake_cold_engine(server->url(), ctl);
  raw_redis raw{server->port()};
  temp_dir tmp;
  copy_fixture_folder("baileys-v7", "alice", tmp.path + "/alice");
  copy_fixture_folder("baileys-v7", "bob", tmp.path + "/bob");
  auto sid = unique_sid("replace-cold");
  reports r;
  REQUIRE(
    import(*e, tmp.path + "/alice", sid, existing_policy::refuse, r).imported
    == 1);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, milliseconds{10000}));
  REQUIRE(
    import(*e, tmp.path + "/bob", sid, existing_policy::replace, r).imported
    == 1);
  REQUIRE(wait_until([&] { return backlog(raw) == 0; }, milliseconds{10000}));
  CHECK(cold_differs(raw, *ctl, sid).empty());
  auto cold = ctl->view(sid);
  for (const auto& w : cold.fields)
    CHECK(w.field != "k:lid-mapping/15550002222"); // alice's, gone
  CHECK(cold.version == 3);
}

} // namespace import_export_redistest
