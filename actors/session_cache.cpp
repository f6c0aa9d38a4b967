// session_cache.cpp -- the session cache's rules (session_cache.hpp).
#include "actors/session_cache.hpp"

namespace authstore {

namespace {

/// The entry name of key (type, id): what field_subject gives for its
/// field name, built directly (this is the cached-read path).
std::string key_name(const std::string& type, const std::string& id) {
  std::string name;
  name.reserve(type.size() + 1 + id.size());
  name += type;
  name += '/';
  name += id;
  return name;
}

} // namespace

void session_cache::clear(uint64_t version) {
  version_ = version;
  has_creds_ = false;
  keys_.clear();
}

void session_cache::store_creds(const creds_reply& r, clock::time_point now) {
  if (r.version != version_)
    clear(r.version);
  has_creds_ = true;
  creds_ = r;
  loaded_ = now;
}

std::optional<keys_reply>
session_cache::find_keys(const std::string& type,
                         const std::vector<std::string>& ids) const {
  keys_reply hit;
  hit.version = version_;
  for (const auto& id : ids) {
    auto i = keys_.find(key_name(type, id));
    if (i == keys_.end())
      return std::nullopt;
    if (i->second.first)
      hit.values.emplace(id, i->second.second);
  }
  return hit;
}

void session_cache::store_keys(const std::string& type,
                               const std::vector<std::string>& ids,
                               const keys_reply& r, clock::time_point now,
                               clock::duration max_age, size_t max_keys) {
  if (r.version != version_ || !fresh(now, max_age)) {
    clear(r.version);
    loaded_ = now;
  }
  if (keys_.size() + ids.size() > max_keys)
    keys_.clear(); // bounded: start over rather than track recency
  if (ids.size() > max_keys)
    return;
  for (const auto& id : ids) {
    auto i = r.values.find(id);
    keys_[key_name(type, id)] = i == r.values.end()
                                  ? std::make_pair(false, std::string{})
                                  : std::make_pair(true, i->second);
  }
}

void session_cache::apply_write(const patch& p, uint64_t version) {
  // A replace dropped everything first (and its version jumps anyway).
  if (p.replace || version != version_ + 1) {
    clear(version);
    return;
  }
  version_ = version;
  creds_.version = version; // what get_creds reports must move with it
  bool creds_touched = false;
  for (const auto& w : p.writes) {
    if (is_creds_field(w.field)) {
      creds_touched = true;
      continue;
    }
    if (auto i = keys_.find(std::string{field_subject(w.field)});
        i != keys_.end())
      i->second = w.erase ? std::make_pair(false, std::string{})
                          : std::make_pair(true, w.value);
  }
  if (creds_touched)
    has_creds_ = false;
}

} // namespace authstore
