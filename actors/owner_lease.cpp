// owner_lease.cpp -- the session actor's view of its ownership lease
// (owner_lease.hpp).
#include "actors/owner_lease.hpp"

#include <algorithm>
#include <utility>

namespace authstore {

bool owner_lease::acquired(clock::time_point sent_at, uint64_t epoch,
                           clock::duration ttl) {
  auto until = sent_at + ttl - margin_;
  bool new_term = !held_ || epoch != epoch_;
  if (new_term) {
    held_ = true;
    epoch_ = epoch;
    valid_until_ = until;
    owner_.clear();
    return true;
  }
  // Renewals may answer out of send order only if Redis reordered them,
  // which one connection does not; max() keeps the view monotonic anyway.
  valid_until_ = std::max(valid_until_, until);
  return false;
}

bool owner_lease::refused(std::string owner) {
  bool was = held_;
  held_ = false;
  owner_ = std::move(owner);
  return was;
}

bool owner_lease::lost() {
  bool was = held_;
  held_ = false;
  return was;
}

} // namespace authstore
