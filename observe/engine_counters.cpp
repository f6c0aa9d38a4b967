// engine_counters.cpp -- see engine_counters.hpp.
#include "observe/engine_counters.hpp"

namespace authstore {

const char* to_string(op_kind k) {
  switch (k) {
    case op_kind::get_creds:
      return "get_creds";
    case op_kind::get_keys:
      return "get_keys";
    case op_kind::set:
      return "set";
    case op_kind::del:
      return "delete";
    case op_kind::touch:
      return "touch";
    case op_kind::exists:
      return "exists";
    case op_kind::read_session:
      return "read_session";
  }
  return "unknown";
}

const char* to_string(cold_op op) {
  switch (op) {
    case cold_op::persist:
      return "persist";
    case cold_op::load:
      return "load";
  }
  return "unknown";
}

const char* read_through_label(size_t slot) {
  static const char* const labels[read_through_result::count]
    = {"loaded", "absent", "raced", "failed"};
  return slot < read_through_result::count ? labels[slot] : "unknown";
}

const char* to_string(persist_path p) {
  return p == persist_path::live ? "live" : "reconciler";
}

} // namespace authstore
