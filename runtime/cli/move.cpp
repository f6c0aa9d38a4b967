// move.cpp -- import, restore, dump and export over a session_store
// (move.hpp).
#include "runtime/cli/move.hpp"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_set>

#include "messages/session_id.hpp"
#include "runtime/cli/baileys_folder.hpp"
#include "runtime/cli/dump_format.hpp"

namespace authstore {

namespace {

/// SCAN COUNT of one list_sessions step: a few hundred microseconds of
/// Redis time per step, few round trips per thousand sessions.
constexpr uint32_t walk_step = 1000;

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};
using dir_ptr = std::unique_ptr<DIR, dir_closer>;

size_t key_writes(const patch& p) {
  size_t n = 0;
  for (const auto& w : p.writes)
    n += is_key_field(w.field) ? 1 : 0;
  return n;
}

size_t key_fields(const session_snapshot& s) {
  size_t n = 0;
  for (const auto& w : s.fields)
    n += is_key_field(w.field) ? 1 : 0;
  return n;
}

/// Writes one session and counts how it ended.
void write_counted(session_store& store, const std::string& sid, patch p,
                   existing_policy policy, move_tally& t,
                   const move_report& report) {
  auto keys = key_writes(p);
  failure why;
  switch (write_session(store, sid, std::move(p), policy, why)) {
    case move_outcome::written:
      ++t.imported;
      t.keys += keys;
      break;
    case move_outcome::unchanged:
      ++t.unchanged;
      break;
    case move_outcome::failed:
      ++t.failed;
      report(sid, why, true);
      break;
  }
}

/// Imports the folder `dir` as session `sid` (validated here).
void import_one(session_store& store, const std::string& dir,
                const std::string& sid, bool dir_may_be_link,
                existing_policy policy, move_tally& t,
                const move_report& report) {
  if (auto ok = validate_session_id(sid); !ok) {
    ++t.failed;
    report(sid,
           {ok.error().code, "the folder name is no valid session id: "
                               + ok.error().detail + "; skipped"},
           true);
    return;
  }
  auto folder = read_baileys_folder(dir, store.limits(), dir_may_be_link);
  if (!folder) {
    ++t.failed;
    report(sid,
           {folder.error().code,
            folder.error().detail + " (nothing of this session was written)"},
           true);
    return;
  }
  write_counted(store, sid, std::move(folder->writes), policy, t, report);
}

/// What a --folders entry is: a session folder, a link (refused), or
/// something else (left alone).
enum class entry_kind { folder, link, other, unreadable };

entry_kind kind_of(int dfd, const dirent& e) {
  if (e.d_type == DT_DIR)
    return entry_kind::folder;
  if (e.d_type == DT_LNK)
    return entry_kind::link;
  if (e.d_type != DT_UNKNOWN)
    return entry_kind::other;
  struct stat st;
  if (::fstatat(dfd, e.d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return entry_kind::unreadable;
  return S_ISDIR(st.st_mode)   ? entry_kind::folder
         : S_ISLNK(st.st_mode) ? entry_kind::link
                               : entry_kind::other;
}

bool is_dot(std::string_view name) {
  return name == "." || name == "..";
}

} // namespace

move_outcome write_session(session_store& store, const std::string& sid,
                           patch p, existing_policy policy, failure& why) {
  if (policy == existing_policy::replace)
    p.replace = true;
  else
    p.if_absent = true;
  auto v = store.set(sid, std::move(p));
  if (v)
    return move_outcome::written;
  if (v.error().code != errc::version_conflict) {
    why = v.error();
    return move_outcome::failed;
  }
  if (policy == existing_policy::skip)
    return move_outcome::unchanged;
  why = {errc::version_conflict,
         "a live session exists (" + v.error().detail
           + "): refused; --replace overwrites it, --if-absent leaves it"};
  return move_outcome::failed;
}

move_tally import_folder(session_store& store, const std::string& dir,
                         const std::string& sid, existing_policy policy,
                         progress_meter& meter, const move_report& report) {
  move_tally t;
  import_one(store, dir, sid, true, policy, t, report);
  meter.update(t, 1);
  return t;
}

move_tally import_folders(session_store& store, const std::string& parent,
                          existing_policy policy, progress_meter& meter,
                          const move_report& report) {
  move_tally t;
  int pfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  dir_ptr d{pfd < 0 ? nullptr : ::fdopendir(pfd)};
  if (!d) {
    if (pfd >= 0)
      ::close(pfd);
    ++t.failed;
    report(parent,
           {errc::invalid_argument,
            std::string{"cannot read the folder: "} + std::strerror(errno)},
           true);
    return t;
  }
  // Pass 1 counts (for the progress line), pass 2 imports: no list of
  // names is kept, however many folders there are.
  uint64_t total = 0;
  while (auto* e = ::readdir(d.get()))
    if (!is_dot(e->d_name) && kind_of(pfd, *e) == entry_kind::folder)
      ++total;
  ::rewinddir(d.get());
  while (auto* e = ::readdir(d.get())) {
    std::string name = e->d_name;
    if (is_dot(name))
      continue;
    switch (kind_of(pfd, *e)) {
      case entry_kind::folder:
        import_one(store, parent + "/" + name, name, false, policy, t, report);
        break;
      case entry_kind::link:
        ++t.failed;
        report(name,
               {errc::invalid_argument,
                "a symbolic link: refused (a session folder is imported "
                "from where it is, not through a link); skipped"},
               true);
        break;
      case entry_kind::unreadable:
        ++t.failed;
        report(
          name,
          {errc::internal, std::string{"cannot stat: "} + std::strerror(errno)},
          true);
        break;
      case entry_kind::other:
        report(name, {errc::invalid_argument, "not a folder: left alone"},
               false);
        break;
    }
    meter.update(t, total);
  }
  return t;
}

move_tally restore_sessions(session_store& store, line_reader& in,
                            existing_policy policy, progress_meter& meter,
                            const move_report& report) {
  move_tally t;
  const auto& limits = store.limits();
  std::string line;
  for (uint64_t n = 1;; ++n) {
    auto more = in.next(line, max_dump_line_bytes(limits));
    auto where = "line " + std::to_string(n);
    if (!more) {
      ++t.failed;
      report(where, more.error(), true);
      if (more.error().code != errc::value_too_large)
        break; // the stream itself failed: nothing after it can be read
      continue;
    }
    if (!*more)
      break;
    if (line.empty())
      continue;
    auto d = parse_dump_line(line, limits);
    if (!d) {
      ++t.failed;
      report(where, d.error(), true);
      continue;
    }
    write_counted(store, d->sid, std::move(d->writes), policy, t, report);
    meter.update(t, 0, in.offset(), in.size());
  }
  return t;
}

move_tally dump_sessions(session_store& store, line_writer& out,
                         line_reader* ids, progress_meter& meter,
                         const move_report& report) {
  move_tally t;
  std::unordered_set<std::string> seen;
  bool write_failed = false;
  auto dump_one = [&](const std::string& sid, bool named) {
    if (!seen.insert(sid).second)
      return; // SCAN named it twice, or the list did
    auto snap = store.read_session(sid);
    if (!snap) {
      ++t.failed;
      report(sid, snap.error(), true);
      return;
    }
    if (!snap->found) {
      if (named) {
        ++t.failed;
        report(sid, {errc::invalid_argument, "not found: no such session"},
               true);
      }
      return; // deleted since the walk named it
    }
    if (auto ok = out.write(dump_line(sid, *snap)); !ok) {
      ++t.failed;
      write_failed = true;
      report(sid, ok.error(), true);
      return;
    }
    ++t.imported;
    t.keys += key_fields(*snap);
  };
  if (ids) {
    std::string sid;
    for (uint64_t n = 1; !write_failed; ++n) {
      auto more = ids->next(sid, max_session_id_bytes + 2);
      if (!more) {
        ++t.failed;
        report("line " + std::to_string(n), more.error(), true);
        if (more.error().code != errc::value_too_large)
          break;
        continue;
      }
      if (!*more)
        break;
      if (!sid.empty() && sid.back() == '\r')
        sid.pop_back();
      if (sid.empty())
        continue;
      if (auto ok = validate_session_id(sid); !ok) {
        ++t.failed;
        report("line " + std::to_string(n), ok.error(), true);
        continue;
      }
      dump_one(sid, true);
      meter.update(t, 0);
    }
    return t;
  }
  std::string cursor = "0";
  do {
    auto page = store.list_sessions(cursor, walk_step);
    if (!page) {
      ++t.failed;
      report("",
             {page.error().code,
              "the walk over the sessions stopped: " + page.error().detail},
             true);
      break;
    }
    for (const auto& sid : page->ids) {
      if (write_failed)
        break;
      dump_one(sid, false);
      meter.update(t, 0);
    }
    cursor = page->cursor;
  } while (cursor != "0" && !write_failed);
  return t;
}

outcome<size_t> export_session(session_store& store, const std::string& sid,
                               const std::string& dir, bool force,
                               bool& found) {
  found = false;
  auto snap = store.read_session(sid);
  if (!snap)
    return snap.error();
  if (!snap->found)
    return size_t{0};
  found = true;
  return write_baileys_folder(dir, *snap, force);
}

} // namespace authstore
