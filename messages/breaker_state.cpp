// breaker_state.cpp -- tokens of breaker_state (breaker_state.hpp).
#include "messages/breaker_state.hpp"

namespace authstore {

std::string_view to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::half_open:
      return "half_open";
    case breaker_state::open:
      return "open";
    case breaker_state::forced_open:
      return "forced_open";
    case breaker_state::disabled:
      return "disabled";
  }
  return "unknown";
}

bool refuses_calls(breaker_state x, int64_t next_probe_ms) {
  return x == breaker_state::forced_open
         || (x == breaker_state::open && next_probe_ms > 0);
}

} // namespace authstore
