// keys.cpp -- key names and the wall clock (redis/keys.hpp).
#include "redis/keys.hpp"

#include <chrono>

namespace authstore::redis_layout {

namespace {

/// "as:{" sid "}:" suffix. redis/scripts/sweep_dirty.lua relies on this
/// shape (4 bytes before the id, 3 after it for the outbox).
std::string session_key(std::string_view sid, std::string_view suffix) {
  std::string result = "as:{";
  result.reserve(8 + sid.size());
  result += sid;
  result += "}:";
  result += suffix;
  return result;
}

} // namespace

std::string meta_key(std::string_view sid) {
  return session_key(sid, "m");
}

std::string creds_key(std::string_view sid) {
  return session_key(sid, "c");
}

std::string keys_key(std::string_view sid) {
  return session_key(sid, "k");
}

std::string outbox_key(std::string_view sid) {
  return session_key(sid, "o");
}

std::string lease_key(std::string_view sid) {
  return session_key(sid, "l");
}

std::string client_lease_key(std::string_view sid) {
  return session_key(sid, "cl");
}

std::string owner_key(std::string_view sid) {
  return session_key(sid, "own");
}

std::string members_key() {
  return "as:members";
}

std::string members_info_key() {
  return "as:members:info";
}

std::string dirty_index_key() {
  return "as:dirty";
}

std::string dirty_fields_key() {
  return "as:dirty:fields";
}

std::string quarantine_key() {
  return "as:quarantine";
}

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

} // namespace authstore::redis_layout
