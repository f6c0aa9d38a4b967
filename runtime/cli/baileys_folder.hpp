// baileys_folder.hpp -- a useMultiFileAuthState folder as one patch (import)
// and one session snapshot as such a folder (export). CAF-free.
//
// Reading (import): one folder is one session: creds.json plus one
// <type>-<id>.json per key (file names: baileys_names.hpp). Every value goes
// through the codec, so all three Buffer forms come in and the v7 form is
// stored. The folder is refused whole, naming the file and the reason, for:
// a file that is not creds.json or a key file, invalid JSON or a value over
// a codec limit, a key file holding null, a name with a path separator, no
// creds.json, and any symbolic link or other non-regular file. Why every
// symlink and not only those pointing outside: following one imports a file
// from wherever it points (another account's folder, a FIFO that blocks the
// import, /dev/zero), and checking where it points races with whoever
// changes it; useMultiFileAuthState never creates one. Files are opened
// with O_NOFOLLOW and checked on the open descriptor (fstat), and a file
// larger than the codec allows (codec.max-value-bytes for a key,
// codec.max-patch-bytes for creds.json) is refused before it is read. The
// session as a whole is bounded like one patch (codec.max-writes values,
// codec.max-patch-bytes bytes), checked while reading, so memory stays
// bounded by one session whatever the folder holds.
//
// Writing (export): into a new temporary folder beside the target
// (".<name>.export-XXXXXX", mode 0700, files 0600: they hold private keys),
// each file fsync'ed, then renamed into place in one rename(2): a crash
// leaves either no folder or the whole folder (plus, at worst, the
// temporary one). An existing empty target is replaced by that rename; a
// non-empty one only with `force`, by an atomic exchange (renameat2
// RENAME_EXCHANGE), after which the old contents are deleted. Key files hold
// the stored value byte for byte (the v7 form is exactly
// JSON.stringify(v, BufferJSON.replacer)); creds.json holds the stored
// fields in the order Baileys 7 creates them (baileys_creds_document).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"

namespace authstore {

/// A folder read into one patch.
struct folder_contents {
  patch writes;
  /// Key files read (creds.json not counted).
  size_t keys = 0;
  /// Of those, files of types Baileys 7 does not know (passed through).
  size_t unknown_type_keys = 0;
};

/// Reads the useMultiFileAuthState folder at `dir` under `limits`. A failure
/// names the file first ("pre-key-3.json: ..."); nothing is returned then.
/// `dir` itself may be a symbolic link only with `dir_may_be_link` (the
/// operator named it: --folder; a sub-folder found by --folders may not);
/// nothing in it may be.
outcome<folder_contents> read_baileys_folder(const std::string& dir,
                                             const patch_limits& limits,
                                             bool dir_may_be_link = true);

/// Writes `snap` (a found session) as a useMultiFileAuthState folder at
/// `dir`; refuses an existing non-empty `dir` unless `force`. Returns the
/// number of key files written. Errors: invalid_argument (target not empty,
/// not a folder; two keys with one file name, which Baileys could not tell
/// apart either; a file name over 255 bytes), internal (I/O, with errno's
/// text).
outcome<size_t> write_baileys_folder(const std::string& dir,
                                     const session_snapshot& snap, bool force);

/// The creds fields of `fields` ("c:..") as creds.json text: the members in
/// the order Baileys 7 creates them (initAuthCreds(), then pairing, then
/// login), any others after them by name; values byte for byte. Redis keeps
/// no order of a hash's fields, so this order is what makes a re-exported
/// creds.json equal to the file Baileys wrote, byte for byte.
std::string baileys_creds_document(const std::vector<field_write>& fields);

} // namespace authstore
