// linearizability.hpp -- checks a recorded history of session reads and
// writes against the per-session guarantees of issue #19. CAF-free and
// server-free: the e2e tests record, this header judges, and
// tests/unit/linearizability_test.cpp tests the judge on hand-made
// histories (a checker that cannot fail proves nothing).
//
// A history is a list of completed operations: who (client), on which
// session, read or write, when it was invoked and when it completed (one
// steady clock for every client of a test: they run in one process or
// share CLOCK_MONOTONIC), and the version its result carried (a write's
// new version, a read's version). Failed operations are left out: a write
// of unknown outcome may or may not be visible, and no rule below uses one
// as a lower bound, so leaving it out only makes the check weaker, never
// wrong.
//
// The rules, per session (a version is the session's total order, the
// fencing token Redis assigns inside the write's Lua script):
//   write_order  an acknowledged write that completed before another write
//                was invoked has a smaller version (versions strictly
//                increase along acknowledged writes; two acknowledged
//                writes never share a version: a lost update);
//   stale_read   a read returns a version >= every write acknowledged
//                before the read was invoked (real-time order: the
//                linearizability condition a version can show);
//   client_order a client never sees a version older than one it already
//                saw (its operations completed before this one began):
//                reads >=, writes > .
// Operations that overlap in time constrain each other in no way: a read
// concurrent with a write may return the version before or after it.
//
// Cost: O(n log n) per session (sorts and binary searches on prefix
// maxima), so 100 000 operations take milliseconds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace authstore::linearizability {

enum class op_type { read, write };

/// One completed operation of the history.
struct operation {
  std::string client;
  std::string session;
  op_type type = op_type::read;
  /// Steady-clock nanoseconds at invocation and at completion.
  int64_t invoked_ns = 0;
  int64_t completed_ns = 0;
  /// A write's new version; a read's version.
  uint64_t version = 0;
};

/// One broken rule: its name (write_order, stale_read, client_order), the
/// offending operation's index in the history, and what it saw.
struct violation {
  std::string rule;
  size_t index = 0;
  std::string detail;
};

namespace detail {

/// Completed writes of one session, by completion time, with the running
/// maximum of their versions: "the newest version acknowledged before t".
class acknowledged_writes {
public:
  void add(int64_t completed_ns, uint64_t version) {
    writes_.emplace_back(completed_ns, version);
  }

  void seal() {
    std::sort(writes_.begin(), writes_.end());
    prefix_max_.resize(writes_.size());
    uint64_t m = 0;
    for (size_t i = 0; i < writes_.size(); ++i)
      prefix_max_[i] = m = std::max(m, writes_[i].second);
  }

  /// The largest version of a write that completed strictly before `t`
  /// (false when none did).
  bool newest_before(int64_t t, uint64_t& version) const {
    auto it = std::lower_bound(writes_.begin(), writes_.end(), t,
                               [](const std::pair<int64_t, uint64_t>& w,
                                  int64_t x) { return w.first < x; });
    if (it == writes_.begin())
      return false;
    version = prefix_max_[static_cast<size_t>(it - writes_.begin()) - 1];
    return true;
  }

private:
  std::vector<std::pair<int64_t, uint64_t>> writes_;
  std::vector<uint64_t> prefix_max_;
};

inline std::string describe(const operation& op) {
  return std::string{op.type == op_type::read ? "read" : "write"} + " by "
         + op.client + " of " + op.session + " ["
         + std::to_string(op.invoked_ns) + ", "
         + std::to_string(op.completed_ns) + "] at version "
         + std::to_string(op.version);
}

} // namespace detail

/// Every rule broken by `history` (empty: none).
inline std::vector<violation> check(const std::vector<operation>& history) {
  std::vector<violation> found;
  // Per session: acknowledged writes, and the writes' versions for the
  // duplicate check.
  std::map<std::string, detail::acknowledged_writes> writes;
  std::map<std::string, std::map<uint64_t, size_t>> write_versions;
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& op = history[i];
    if (op.type != op_type::write)
      continue;
    writes[op.session].add(op.completed_ns, op.version);
    auto [pos, fresh] = write_versions[op.session].emplace(op.version, i);
    if (!fresh)
      found.push_back({"write_order", i,
                       detail::describe(op) + " shares its version with op "
                         + std::to_string(pos->second) + " (a lost update)"});
  }
  for (auto& kvp : writes)
    kvp.second.seal();
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& op = history[i];
    auto w = writes.find(op.session);
    uint64_t newest = 0;
    if (w == writes.end() || !w->second.newest_before(op.invoked_ns, newest))
      continue;
    if (op.type == op_type::write && op.version <= newest)
      found.push_back({"write_order", i,
                       detail::describe(op) + " but version "
                         + std::to_string(newest)
                         + " was acknowledged before it began"});
    if (op.type == op_type::read && op.version < newest)
      found.push_back({"stale_read", i,
                       detail::describe(op) + " but version "
                         + std::to_string(newest)
                         + " was acknowledged before it began"});
  }
  // Per (client, session): what the client had seen before each operation
  // began, from its operations that completed before that.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> own;
  for (size_t i = 0; i < history.size(); ++i)
    own[{history[i].client, history[i].session}].push_back(i);
  for (auto& kvp : own) {
    auto& idx = kvp.second;
    std::vector<std::pair<int64_t, uint64_t>> seen; // (completed, version)
    for (auto i : idx)
      seen.emplace_back(history[i].completed_ns, history[i].version);
    std::sort(seen.begin(), seen.end());
    std::vector<uint64_t> prefix(seen.size());
    uint64_t m = 0;
    for (size_t k = 0; k < seen.size(); ++k)
      prefix[k] = m = std::max(m, seen[k].second);
    for (auto i : idx) {
      const auto& op = history[i];
      auto it = std::lower_bound(seen.begin(), seen.end(), op.invoked_ns,
                                 [](const std::pair<int64_t, uint64_t>& s,
                                    int64_t x) { return s.first < x; });
      if (it == seen.begin())
        continue;
      auto before = prefix[static_cast<size_t>(it - seen.begin()) - 1];
      bool older
        = op.type == op_type::read ? op.version < before : op.version <= before;
      if (older)
        found.push_back({"client_order", i,
                         detail::describe(op) + " after the client saw version "
                           + std::to_string(before)});
    }
  }
  return found;
}

/// Counts of `found` by rule, for a one-line report.
inline std::string summary(const std::vector<violation>& found) {
  std::map<std::string, size_t> by_rule;
  for (const auto& v : found)
    ++by_rule[v.rule];
  std::string text = std::to_string(found.size()) + " violations";
  for (const auto& kvp : by_rule)
    text += " " + kvp.first + "=" + std::to_string(kvp.second);
  if (!found.empty())
    text += "; first: " + found.front().rule + ": " + found.front().detail;
  return text;
}

} // namespace authstore::linearizability
