// baileys_folder.cpp -- reading and writing useMultiFileAuthState folders
// (baileys_folder.hpp says what is refused and why).
#include "runtime/cli/baileys_folder.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <memory>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "messages/codec.hpp"
#include "runtime/cli/baileys_names.hpp"

namespace authstore {

namespace {

/// Longest file name Linux file systems take (NAME_MAX).
constexpr size_t max_file_name_bytes = 255;

struct fd_closer {
  int fd = -1;
  ~fd_closer() {
    if (fd >= 0)
      ::close(fd);
  }
};

struct dir_closer {
  void operator()(DIR* d) const { ::closedir(d); }
};
using dir_ptr = std::unique_ptr<DIR, dir_closer>;

failure in_file(std::string_view file, const failure& f) {
  return {f.code, std::string{file} + ": " + f.detail};
}

failure io_error(std::string what, int err) {
  return {errc::internal, std::move(what) + ": " + std::strerror(err)};
}

/// Why `st` (an lstat of an entry) is not a file to read, or "" when it is
/// a regular file.
std::string not_a_file(const struct stat& st) {
  if (S_ISLNK(st.st_mode))
    return "a symbolic link: refused (any link; import copies the folder's "
           "own files only)";
  if (S_ISDIR(st.st_mode))
    return "a folder inside a session folder: not a Baileys file";
  if (!S_ISREG(st.st_mode))
    return "not a regular file (a FIFO, socket or device): refused";
  return {};
}

/// Reads the regular file `name` of `dfd` whole, refusing it before
/// reading when it is larger than `max_bytes` (`limit` names the setting).
outcome<std::string> read_entry(int dfd, const char* name, size_t max_bytes,
                                const char* limit) {
  fd_closer f{::openat(
    dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)};
  if (f.fd < 0) {
    if (errno == ELOOP)
      return failure{errc::invalid_argument, "a symbolic link: refused"};
    return io_error("cannot open", errno);
  }
  struct stat st;
  if (::fstat(f.fd, &st) != 0)
    return io_error("cannot stat", errno);
  if (auto why = not_a_file(st); !why.empty())
    return failure{errc::invalid_argument, why};
  auto size = static_cast<size_t>(st.st_size);
  if (size > max_bytes)
    return failure{errc::value_too_large,
                   std::to_string(size) + " bytes, more than " + limit + " ("
                     + std::to_string(max_bytes)
                     + ") allows: refused without reading it"};
  std::string text(size + 1, '\0');
  size_t got = 0;
  while (got < text.size()) {
    auto n = ::read(f.fd, text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error("cannot read", errno);
    if (n == 0)
      break;
    got += static_cast<size_t>(n);
  }
  if (got != size)
    return failure{errc::invalid_argument, "changed while it was read"};
  text.resize(size);
  return text;
}

/// creds.json's members as creds writes (patch_json's rules: a null member
/// is no value).
outcome<patch> read_creds(int dfd, const patch_limits& limits) {
  auto text = read_entry(dfd, creds_file_name.data(), limits.max_patch_bytes,
                         "codec.max-patch-bytes");
  if (!text)
    return text.error();
  // The document's own bounds, as parse_patch sets them for a patch.
  auto parsed = parse_limited(*text, patch_document_limits(limits));
  if (!parsed)
    return parsed.error();
  if (!parsed->is_object())
    return failure{errc::invalid_argument, "not a JSON object"};
  json wrapper = json::object();
  wrapper["creds"] = std::move(*parsed);
  return parse_patch_document(wrapper, limits);
}

/// Checks the session read so far against one patch's bounds.
outcome<bool> within_bounds(const patch& p, size_t payload,
                            const patch_limits& limits) {
  if (p.writes.size() > limits.max_writes)
    return failure{errc::too_many_fields,
                   "the folder holds more than "
                     + std::to_string(limits.max_writes)
                     + " values, more than one atomic write may carry "
                       "(codec.max-writes)"};
  if (payload > limits.max_patch_bytes)
    return failure{errc::value_too_large,
                   "the folder holds more than "
                     + std::to_string(limits.max_patch_bytes)
                     + " bytes of values, more than one atomic write may "
                       "carry (codec.max-patch-bytes)"};
  return true;
}

} // namespace

outcome<folder_contents> read_baileys_folder(const std::string& dir,
                                             const patch_limits& limits,
                                             bool dir_may_be_link) {
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC
                                  | (dir_may_be_link ? 0 : O_NOFOLLOW));
  if (dfd < 0) {
    auto err = errno;
    if (err == ELOOP || (err == ENOTDIR && !dir_may_be_link))
      return failure{errc::invalid_argument,
                     "a symbolic link or no folder: refused"};
    return failure{
      err == ENOENT || err == ENOTDIR ? errc::invalid_argument : errc::internal,
      std::string{"cannot open the folder: "} + std::strerror(err)};
  }
  dir_ptr d{::fdopendir(dfd)};
  if (!d) {
    ::close(dfd);
    return io_error("cannot read the folder", errno);
  }
  folder_contents out;
  bool have_creds = false;
  size_t payload = 0;
  while (auto* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..")
      continue;
    struct stat st;
    if (::fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return in_file(name, io_error("cannot stat", errno));
    if (auto why = not_a_file(st); !why.empty())
      return in_file(name, {errc::invalid_argument, why});
    if (name == creds_file_name) {
      auto creds = read_creds(dfd, limits);
      if (!creds)
        return in_file(name, creds.error());
      for (auto& w : creds->writes) {
        payload += w.field.size() + w.value.size();
        out.writes.writes.push_back(std::move(w));
      }
      have_creds = true;
    } else {
      auto key = parse_key_file_name(name);
      if (!key)
        return in_file(name, key.error());
      auto text = read_entry(dfd, e->d_name, limits.value.max_value_bytes,
                             "codec.max-value-bytes");
      if (!text)
        return in_file(name, text.error());
      auto value = normalize_text(*text, limits.value);
      if (!value)
        return in_file(name, value.error());
      if (*value == "null")
        return in_file(name, {errc::invalid_argument,
                              "holds null, which useMultiFileAuthState "
                              "never writes (it deletes the file)"});
      out.writes.set_key(key->type, key->id, std::move(*value));
      payload += out.writes.writes.back().field.size()
                 + out.writes.writes.back().value.size();
      ++out.keys;
      if (!key->known_type)
        ++out.unknown_type_keys;
    }
    if (auto ok = within_bounds(out.writes, payload, limits); !ok)
      return in_file(name, ok.error());
  }
  if (!have_creds)
    return failure{errc::invalid_argument,
                   "creds.json: missing; not a useMultiFileAuthState folder "
                   "(Baileys would start a new login here)"};
  return out;
}

// -- writing -----------------------------------------------------------------

namespace {

int remove_entry(const char* path, const struct stat*, int, struct FTW*) {
  return ::remove(path);
}

/// Deletes `path` and everything below it (links themselves, not their
/// targets).
void remove_tree(const std::string& path) {
  ::nftw(path.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

outcome<bool> write_entry(int dfd, const std::string& name,
                          const std::string& text) {
  fd_closer f{::openat(dfd, name.c_str(),
                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                       0600)};
  if (f.fd < 0)
    return io_error(name + ": cannot create", errno);
  size_t put = 0;
  while (put < text.size()) {
    auto n = ::write(f.fd, text.data() + put, text.size() - put);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return io_error(name + ": cannot write", errno);
    put += static_cast<size_t>(n);
  }
  return true;
}

/// Fills the folder `dfd` with `snap`'s files; returns the key files
/// written.
outcome<size_t> fill_folder(int dfd, const session_snapshot& snap) {
  auto creds = baileys_creds_document(snap.fields);
  if (creds != "{}")
    if (auto ok = write_entry(dfd, std::string{creds_file_name}, creds); !ok)
      return ok.error();
  std::set<std::string> names;
  size_t keys = 0;
  for (const auto& w : snap.fields) {
    if (!is_key_field(w.field))
      continue;
    std::string_view type;
    std::string_view id;
    if (!split_key_field(w.field, type, id))
      return failure{errc::internal, "a stored key without '/'"};
    auto name = key_file_name(type, id);
    if (name.size() > max_file_name_bytes)
      return failure{errc::invalid_argument,
                     "a key's file name has " + std::to_string(name.size())
                       + " bytes; file systems take at most 255"};
    if (!names.insert(name).second)
      return failure{errc::invalid_argument,
                     name
                       + ": two keys have this file name (fixFileName "
                         "writes ':' as '-' and '/' as \"__\"), and "
                         "useMultiFileAuthState could not tell them apart"};
    if (auto ok = write_entry(dfd, name, w.value); !ok)
      return ok.error();
    ++keys;
  }
  return keys;
}

/// Whether the folder `path` has any entry; false also when unreadable
/// (the rename then reports it).
bool has_entries(const std::string& path) {
  dir_ptr d{::opendir(path.c_str())};
  if (!d)
    return false;
  while (auto* e = ::readdir(d.get())) {
    std::string_view name = e->d_name;
    if (name != "." && name != "..")
      return true;
  }
  return false;
}

} // namespace

outcome<size_t> write_baileys_folder(const std::string& dir_arg,
                                     const session_snapshot& snap, bool force) {
  auto dir = dir_arg;
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  auto cut = dir.rfind('/');
  auto parent = cut == std::string::npos ? std::string{"."}
                : cut == 0               ? std::string{"/"}
                                         : dir.substr(0, cut);
  auto base = cut == std::string::npos ? dir : dir.substr(cut + 1);
  if (base.empty() || base == "." || base == "..")
    return failure{errc::invalid_argument,
                   "name the folder to write (not '.' or '..')"};
  struct stat st;
  bool exists = ::lstat(dir.c_str(), &st) == 0;
  bool replace_full = false;
  if (exists) {
    if (S_ISLNK(st.st_mode))
      return failure{errc::invalid_argument,
                     dir + " is a symbolic link; name the folder itself"};
    if (!S_ISDIR(st.st_mode))
      return failure{errc::invalid_argument, dir + " exists and is no folder"};
    replace_full = has_entries(dir);
    if (replace_full && !force)
      return failure{errc::invalid_argument,
                     dir + " is not empty; --force replaces its contents"};
  }
  auto tmp = parent + "/." + base + ".export-XXXXXX";
  if (!::mkdtemp(tmp.data()))
    return io_error("cannot create a folder beside " + dir, errno);
  auto written = [&]() -> outcome<size_t> {
    fd_closer tfd{::open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (tfd.fd < 0)
      return io_error("cannot open " + tmp, errno);
    auto keys = fill_folder(tfd.fd, snap);
    if (!keys)
      return keys;
    // One flush of the file system for all files before they become
    // visible under the target's name (one fsync per file would cost a
    // disk flush per key).
    if (::syncfs(tfd.fd) != 0)
      return io_error("cannot flush " + tmp, errno);
    return keys;
  }();
  if (!written) {
    remove_tree(tmp);
    return written;
  }
  int rc = replace_full ? ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD,
                                      dir.c_str(), RENAME_EXCHANGE)
                        : ::rename(tmp.c_str(), dir.c_str());
  if (rc != 0) {
    auto err = errno;
    remove_tree(tmp);
    return io_error("cannot move the new folder to " + dir, err);
  }
  if (replace_full)
    remove_tree(tmp); // now the old contents
  fd_closer pfd{::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (pfd.fd >= 0)
    ::fsync(pfd.fd);
  return written;
}

std::string baileys_creds_document(const std::vector<field_write>& fields) {
  // The order of AuthenticationCreds members as Baileys 7 creates them:
  // initAuthCreds() (lib/Utils/auth-utils.js; the undefined ones keep their
  // place), then configureSuccessfulPairing()'s update
  // (lib/Utils/validate-connection.js), then what login records.
  static const std::vector<std::string_view> order = {
    "noiseKey",
    "pairingEphemeralKeyPair",
    "signedIdentityKey",
    "signedPreKey",
    "registrationId",
    "advSecretKey",
    "processedHistoryMessages",
    "nextPreKeyId",
    "firstUnuploadedPreKeyId",
    "accountSyncCounter",
    "accountSettings",
    "registered",
    "pairingCode",
    "lastPropHash",
    "routingInfo",
    "additionalData",
    "account",
    "me",
    "signalIdentities",
    "platform",
    "lastAccountSyncTimestamp",
    "myAppStateKeyId",
  };
  auto rank = [&](std::string_view field) {
    auto name = field_subject(field);
    auto i = std::find(order.begin(), order.end(), name);
    return static_cast<size_t>(i - order.begin());
  };
  std::vector<field_write> creds;
  for (const auto& w : fields)
    if (!w.erase && is_creds_field(w.field))
      creds.push_back(w);
  std::sort(creds.begin(), creds.end(), [&](const auto& a, const auto& b) {
    auto ra = rank(a.field);
    auto rb = rank(b.field);
    return ra != rb ? ra < rb : a.field < b.field;
  });
  return creds_document(creds);
}

} // namespace authstore
