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
    case op_kind::list_keys:
      return "list_keys";
    case op_kind::lease:
      return "lease";
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

const char* to_string(auth_port p) {
  return p == auth_port::remote ? "remote" : "http";
}

const char* to_string(api_route r) {
  static const char* const labels[api_route_count]
    = {"get_creds", "read_keys", "list_keys",   "write",      "delete_session",
       "exists",    "touch",     "batch_creds", "take_lease", "release_lease",
       "health",    "metrics",   "healthz",     "readyz",     "unknown"};
  auto i = static_cast<size_t>(r);
  return i < api_route_count ? labels[i] : "unknown";
}

size_t api_status_slot(int status) {
  for (size_t i = 0; i < std::size(api_statuses); ++i)
    if (api_statuses[i] == status)
      return i;
  return api_status_count - 1;
}

const char* api_status_label(size_t slot) {
  static const char* const labels[api_status_count]
    = {"200", "400", "401", "404", "405", "409", "413",
       "429", "431", "500", "501", "503", "504", "other"};
  return slot < api_status_count ? labels[slot] : "other";
}

const char* to_string(api_drop d) {
  static const char* const labels[api_drop_count] = {
    "read_timeout", "idle_timeout", "tls_handshake", "over_limit", "rejected"};
  auto i = static_cast<size_t>(d);
  return i < api_drop_count ? labels[i] : "unknown";
}

} // namespace authstore
