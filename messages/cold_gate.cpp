// cold_gate.cpp -- see cold_gate.hpp.
#include "messages/cold_gate.hpp"

namespace authstore {

void cold_gate::publish(clock::time_point refused_until, int32_t slots) {
  // Two independent relaxed stores: a reader between them sees a mix of
  // two consecutive publications, which is still a hint (see the header).
  slots_.store(slots, std::memory_order_relaxed);
  until_.store(refused_until.time_since_epoch().count(),
               std::memory_order_relaxed);
}

bool cold_gate::refuses(clock::time_point now) const {
  return now.time_since_epoch().count()
         < until_.load(std::memory_order_relaxed);
}

int32_t cold_gate::admits(clock::time_point now) const {
  return refuses(now) ? 0 : slots_.load(std::memory_order_relaxed);
}

} // namespace authstore
