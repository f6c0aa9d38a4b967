// session_store.hpp -- the blocking session API, whoever serves it: the
// engine in this process (engine.hpp) or a remote node (remote_client.hpp).
//
// Callers that do not care where the store runs (the CLI, benchmarks) hold
// a session_store&. Every call is bounded; errors are failure values whose
// code is a stable token (errors.hpp); "not found" is never an error.
// CAF-free.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"

namespace authstore {

class session_store {
public:
  virtual ~session_store() = default;

  /// Applies a patch; returns the new version once Redis acknowledged.
  virtual outcome<uint64_t> set(const std::string& sid, patch p) = 0;

  /// Parses and normalizes a patch in its JSON form (with limits()), then
  /// applies it like set().
  outcome<uint64_t> set_json(const std::string& sid, std::string_view doc);

  /// Reads the creds (found=false: a successful read of nothing).
  virtual outcome<creds_reply> get_creds(const std::string& sid) = 0;

  /// Reads keys of one type; absent ids are left out.
  virtual outcome<keys_reply> get_keys(const std::string& sid,
                                       const std::string& type,
                                       const std::vector<std::string>& ids)
    = 0;

  /// Deletes a session; true if it existed.
  virtual outcome<bool> del(const std::string& sid) = 0;

  /// Refreshes the hot TTL; true if the session exists.
  virtual outcome<bool> touch(const std::string& sid) = 0;

  /// Whether the session exists.
  virtual outcome<bool> exists(const std::string& sid) = 0;

  /// The whole session (creds and keys as field writes, version) in one
  /// consistent snapshot; found=false: no live session. value_too_large:
  /// larger than one patch may be (codec.max-writes, codec.max-patch-bytes).
  virtual outcome<session_snapshot> read_session(const std::string& sid) = 0;

  /// One step of a walk over the live sessions Redis holds: cursor "0"
  /// starts, a reply cursor "0" ends it; `count` (1..10000) is a hint of
  /// work per step. A session may be named twice; one created or deleted
  /// during the walk may or may not be named.
  virtual outcome<session_page> list_sessions(const std::string& cursor,
                                              uint32_t count)
    = 0;

  /// The limits patches are parsed with.
  virtual const patch_limits& limits() const = 0;
};

} // namespace authstore
