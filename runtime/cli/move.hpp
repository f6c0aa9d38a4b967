// move.hpp -- moving sessions in and out of a store (issue #16): import
// from useMultiFileAuthState folders, export to one, dump and restore. The
// commands of cmd_move.cpp are thin shells around these; tests call them
// directly. Any session_store works: the engine in this process or a remote
// node (--connect). CAF-free.
//
// One session is one atomic write (one patch: all of it or nothing) or one
// snapshot read (read_session). Existing sessions, decided inside that
// write's script (so two importers cannot race: no check-then-write):
//   refuse (default)  an if_absent write; a live session fails the session
//   skip (--if-absent) an if_absent write; a live session is "unchanged",
//                     so importing a folder twice is a no-op the second time
//   replace (--replace) a replace write: the old creds and keys go in the
//                     same script
// "Live" because a deleted session keeps a tombstone {v, d=1}: it does not
// exist, and a write over it continues its versions.
//
// Memory: one session at a time (bounded by one patch's limits), whatever
// the number of folders or lines; a folder walk keeps no list of names (it
// counts them in a first pass, for the progress line). dump keeps the ids it
// wrote, to drop the duplicates SCAN may return (about 100 bytes each).
//
// Errors of one session never stop the others: each is reported through
// `report` (session, what failed) and counted; the caller's exit code says
// whether any failed. A write that timed out may have landed: running the
// same import again with --if-absent finishes it without duplicating.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "messages/errors.hpp"
#include "runtime/cli/line_stream.hpp"
#include "runtime/cli/progress.hpp"
#include "runtime/node/session_store.hpp"

namespace authstore {

/// What a write does to a session that already exists (live).
enum class existing_policy { refuse, skip, replace };

/// Called for every session that failed (`counted`: it is one of the
/// tally's failed) and for notes that are no failure (an entry of a parent
/// folder that is no folder). `sid` names the session, or "line N" /
/// the entry when there is no session id yet.
using move_report = std::function<void(const std::string& sid,
                                       const failure& why, bool counted)>;

/// How one session's write ended.
enum class move_outcome { written, unchanged, failed };

/// Writes `p` as session `sid` under `policy`; `why` is set when it failed.
move_outcome write_session(session_store& store, const std::string& sid,
                           patch p, existing_policy policy, failure& why);

/// `import --folder DIR --session SID`.
move_tally import_folder(session_store& store, const std::string& dir,
                         const std::string& sid, existing_policy policy,
                         progress_meter& meter, const move_report& report);

/// `import --folders PARENT`: every sub-folder is a session named after it
/// (validated: an invalid name is reported and skipped). Entries that are
/// not folders are left alone (reported as notes); symbolic links are
/// refused like inside a session folder.
move_tally import_folders(session_store& store, const std::string& parent,
                          existing_policy policy, progress_meter& meter,
                          const move_report& report);

/// `restore`: every line of `in` is one session (dump_format.hpp), written
/// at its dumped version or above.
move_tally restore_sessions(session_store& store, line_reader& in,
                            existing_policy policy, progress_meter& meter,
                            const move_report& report);

/// `dump`: every live session of the store (a SCAN walk), or those named in
/// `ids` (one per line; "" = walk), as one line each. A session deleted
/// between the walk naming it and its read is left out silently (it no
/// longer exists); a named one that does not exist is reported.
move_tally dump_sessions(session_store& store, line_writer& out,
                         line_reader* ids, progress_meter& meter,
                         const move_report& report);

/// `export --session SID --folder DIR`: the key files written. No live
/// session is no error (invariant 4: "not found" is a result): `found` is
/// set false and nothing is written.
outcome<size_t> export_session(session_store& store, const std::string& sid,
                               const std::string& dir, bool force, bool& found);

} // namespace authstore
