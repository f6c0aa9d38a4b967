// session_cache.hpp -- what one session actor remembers between requests:
// its creds and recently read keys, all valid at one version.
//
// Why a class of its own: the rules are the session's consistency contract
// and deserve tests without actors. An acknowledged write at exactly
// version + 1 was the owner's own and is applied; any other version means
// someone else wrote, and everything is dropped. Entries older than the
// caller's max age are not served, which bounds staleness against writers
// in other processes. Key entries are bounded: past the cap the cache
// starts over rather than track recency. CAF-free; time is passed in; one
// owner (the session actor), not thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "messages/model.hpp"

namespace authstore {

class session_cache {
public:
  using clock = std::chrono::steady_clock;

  /// The version every entry is valid at.
  uint64_t version() const { return version_; }

  /// Whether the entries were loaded less than `max_age` before `now`.
  bool fresh(clock::time_point now, clock::duration max_age) const {
    return now - loaded_ < max_age;
  }

  /// Drops every entry; the cache now stands for `version`.
  void clear(uint64_t version);

  /// Drops every entry at the same version (a write of unknown outcome).
  void drop() { clear(version_); }

  /// The cached creds, or null (freshness is the caller's check).
  const creds_reply* creds() const { return has_creds_ ? &creds_ : nullptr; }

  /// Creds Redis answered at `now`.
  void store_creds(const creds_reply& r, clock::time_point now);

  /// The answer for `ids` of `type` when every id is cached (present or
  /// known absent; absent ones are left out, as from Redis), else nothing.
  std::optional<keys_reply>
  find_keys(const std::string& type, const std::vector<std::string>& ids) const;

  /// Keys Redis answered at `now` for `ids` of `type`: entries of another
  /// version, or not fresh for `max_age`, go first; at most `max_keys`
  /// entries are kept.
  void store_keys(const std::string& type, const std::vector<std::string>& ids,
                  const keys_reply& r, clock::time_point now,
                  clock::duration max_age, size_t max_keys);

  /// An acknowledged write of the owner's at `version` (see the file
  /// comment). A touched creds field drops the cached creds document:
  /// re-assembling the merge here would duplicate the codec's work.
  void apply_write(const patch& p, uint64_t version);

private:
  uint64_t version_ = 0;
  clock::time_point loaded_{};
  bool has_creds_ = false;
  creds_reply creds_;
  /// "type/id" -> (present, value); present=false: known absent.
  std::unordered_map<std::string, std::pair<bool, std::string>> keys_;
};

} // namespace authstore
