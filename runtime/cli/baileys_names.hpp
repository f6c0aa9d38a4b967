// baileys_names.hpp -- the file names of Baileys' useMultiFileAuthState
// folders, both ways: (type, id) -> file name, and file name -> (type, id).
//
// What Baileys 7 does (baileys@7.0.0-rc14,
// lib/Utils/use-multi-file-auth-state.js, read from the installed package):
//
//   const fixFileName = (file) =>
//     file?.replace(/\//g, '__')?.replace(/:/g, '-');
//   const creds = (await readData('creds.json')) || initAuthCreds();
//   keys.get: readData(`${type}-${id}.json`)      (for every id asked)
//   keys.set: writeData(value, `${category}-${id}.json`), or removeData
//   writeData: writeFile(join(folder, fixFileName(file)),
//                        JSON.stringify(data, BufferJSON.replacer))
//
// So a key's file is `${type}-${id}.json` with every '/' written as "__"
// and every ':' as '-'. Baileys never lists the folder; it reads by
// computing the name of the id it wants. The escape is not invertible in
// general ('-' may have been '-' or ':', "__" may have been "__" or '/'),
// so the way back uses what Baileys 7 puts into the ids of each known type
// (read from the same package):
//   sender-key           libsignal's SenderKeyName.serialize():
//                        `${groupId}::${sender.id}::${sender.deviceId}`
//                        -> the last two "--" were "::" (a group id may
//                        hold '-' itself: "15551234567-1600000000@g.us")
//   app-state-sync-key   base64 of the key id (process-message.js) -> "__"
//                        was '/' (base64 has no '_')
//   all other known types  ids without '/' or ':' (pre-key numbers, signal
//                        addresses "user[_domain].device", normalized jids,
//                        app-state names, "<user>_reverse", and tctoken's
//                        "__index", which proves "__" is not always '/')
//                        -> kept as they are
// Unknown types: the id is kept exactly as it appears in the file name,
// because nothing tells '-' from ':' or "__" from '/' for them.
//
// Type and id: the ten v7 types are matched first, longest first (so
// "sender-key-memory-X" is sender-key-memory, not sender-key with id
// "memory-X"). An unknown type is the longest run of leading '-'-separated
// words of lowercase ASCII letters that leaves a non-empty id: every known
// type has that shape and no known id starts with such a word followed by
// '-' ("new-type-123" -> type "new-type", id "123"). A name whose first word
// is not lowercase letters is not a Baileys key file, and neither is one
// whose unknown type would be the first words of a known type ("pre-key.json"
// is a pre-key file without an id, not type "pre"; so a future type named
// exactly "app-state" would be refused). CAF-free.
#pragma once

#include <string>
#include <string_view>

#include "messages/errors.hpp"

namespace authstore {

/// The creds document's file name.
inline constexpr std::string_view creds_file_name = "creds.json";

/// A key file's (type, id), with Baileys' escaping undone.
struct baileys_key_name {
  std::string type;
  std::string id;
  /// One of the ten v7 types (else: split and id as described above).
  bool known_type = false;
};

/// The key of a file name other than creds.json. Errors (invalid_argument;
/// the caller names the file): no ".json" suffix, a path separator ('/' or
/// '\\'), no type-id split, a type or id that is not valid (model.hpp), a
/// sender-key name not ending in "--<user>--<device>".
outcome<baileys_key_name> parse_key_file_name(std::string_view file);

/// The file name useMultiFileAuthState gives key (type, id):
/// fixFileName(`${type}-${id}.json`).
std::string key_file_name(std::string_view type, std::string_view id);

} // namespace authstore
