// owner_hints.cpp -- the router's table of sessions other nodes own
// (owner_hints.hpp).
#include "actors/owner_hints.hpp"

namespace authstore {

void owner_hints::learn(const std::string& sid, const std::string& node,
                        clock::time_point until) {
  if (node.empty())
    return;
  hints_[sid] = hint{node == self_ ? std::string{} : node, until};
}

std::optional<std::string> owner_hints::owner(const std::string& sid,
                                              clock::time_point now) const {
  auto i = hints_.find(sid);
  if (i == hints_.end() || now >= i->second.until || i->second.node.empty())
    return std::nullopt;
  return i->second.node;
}

bool owner_hints::local(const std::string& sid, clock::time_point now) const {
  auto i = hints_.find(sid);
  return i != hints_.end() && now < i->second.until && i->second.node.empty();
}

void owner_hints::forget(const std::string& sid, const std::string& node) {
  auto i = hints_.find(sid);
  if (i != hints_.end() && i->second.node == (node == self_ ? "" : node))
    hints_.erase(i);
}

size_t owner_hints::expire(clock::time_point now) {
  for (auto i = hints_.begin(); i != hints_.end();)
    i = now >= i->second.until ? hints_.erase(i) : std::next(i);
  return hints_.size();
}

} // namespace authstore
