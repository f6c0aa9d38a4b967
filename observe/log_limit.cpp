// log_limit.cpp -- see log_limit.hpp.
#include "observe/log_limit.hpp"

#include <atomic>
#include <string>
#include <vector>

namespace authstore::log {

namespace {

std::atomic<uint64_t> dropped{0};

} // namespace

bool limiter::admit(clock::time_point now, uint64_t& suppressed) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto gen = sink_generation();
  if (!written_ || gen != generation_ || now - last_ >= every_) {
    suppressed = gen != generation_ ? 0 : suppressed_;
    written_ = true;
    generation_ = gen;
    last_ = now;
    suppressed_ = 0;
    return true;
  }
  ++suppressed_;
  dropped.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void limiter::write(level x, std::string_view component, std::string_view event,
                    std::initializer_list<field> fields) {
  if (!enabled(x))
    return;
  uint64_t suppressed = 0;
  if (!admit(clock::now(), suppressed))
    return;
  if (suppressed == 0)
    return log::write(x, component, event, fields);
  std::vector<field> all{fields};
  all.emplace_back("suppressed", std::to_string(suppressed));
  write_fields(x, component, event, all.data(), all.data() + all.size());
}

uint64_t suppressed_total() {
  return dropped.load(std::memory_order_relaxed);
}

} // namespace authstore::log
