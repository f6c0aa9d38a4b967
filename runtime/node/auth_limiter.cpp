// auth_limiter.cpp -- see auth_limiter.hpp.
#include "runtime/node/auth_limiter.hpp"

#include <algorithm>

namespace authstore {

bool auth_limiter::allowed(std::string_view source, clock::time_point now) {
  if (size_.load(std::memory_order_relaxed) == 0)
    return true;
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = sources_.find(std::string{source});
  if (i == sources_.end())
    return true;
  if (now - i->second.start >= cfg_.window) {
    sources_.erase(i);
    size_.store(sources_.size(), std::memory_order_relaxed);
    return true;
  }
  return i->second.failures < cfg_.max_failures;
}

void auth_limiter::failed(std::string_view source, clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto key = std::string{source};
  auto i = sources_.find(key);
  if (i == sources_.end()) {
    if (sources_.size() >= cfg_.max_sources)
      make_room(now);
    sources_.emplace(std::move(key), window{now, 1});
  } else if (now - i->second.start >= cfg_.window) {
    i->second = window{now, 1};
  } else {
    ++i->second.failures;
  }
  size_.store(sources_.size(), std::memory_order_relaxed);
}

size_t auth_limiter::tracked() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return sources_.size();
}

void auth_limiter::make_room(clock::time_point now) {
  for (auto i = sources_.begin(); i != sources_.end();)
    i = now - i->second.start >= cfg_.window ? sources_.erase(i) : std::next(i);
  if (sources_.size() < cfg_.max_sources || sources_.empty())
    return;
  auto oldest = std::min_element(sources_.begin(), sources_.end(),
                                 [](const auto& a, const auto& b) {
                                   return a.second.start < b.second.start;
                                 });
  sources_.erase(oldest);
}

} // namespace authstore
