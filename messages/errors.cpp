// errors.cpp -- tokens and predicates for errc. The table is the single
// source of truth for names; tests check that every value has a distinct
// token and round-trips, and what each predicate says about each value.
#include "messages/errors.hpp"

#include <array>
#include <iterator>

namespace authstore {

namespace {

struct errc_name {
  errc code;
  std::string_view token;
};

constexpr errc_name errc_names[] = {
  {errc::invalid_session_id, "invalid_session_id"},
  {errc::invalid_argument, "invalid_argument"},
  {errc::value_too_large, "value_too_large"},
  {errc::too_deep, "too_deep"},
  {errc::too_many_fields, "too_many_fields"},
  {errc::invalid_buffer, "invalid_buffer"},
  {errc::version_conflict, "version_conflict"},
  {errc::session_in_use, "session_in_use"},
  {errc::fenced, "fenced"},
  {errc::hot_unavailable, "hot_unavailable"},
  {errc::hot_out_of_memory, "hot_out_of_memory"},
  {errc::hot_error, "hot_error"},
  {errc::cold_unavailable, "cold_unavailable"},
  {errc::cold_error, "cold_error"},
  {errc::no_cold_store, "no_cold_store"},
  {errc::timeout, "timeout"},
  {errc::overloaded, "overloaded"},
  {errc::shutting_down, "shutting_down"},
  {errc::unreachable, "unreachable"},
  {errc::not_owner, "not_owner"},
  {errc::protocol_mismatch, "protocol_mismatch"},
  {errc::unauthorized, "unauthorized"},
  {errc::internal, "internal"},
  {errc::invalid_config, "invalid_config"},
  {errc::decrypt_failed, "decrypt_failed"},
};

constexpr bool below_errc_last() {
  for (const auto& n : errc_names)
    if (n.code > errc_last)
      return false;
  return true;
}
static_assert(below_errc_last(),
              "a value above errc_last was appended: move errc_last");

} // namespace

bool is_request_error(errc x) {
  switch (x) {
    case errc::invalid_session_id:
    case errc::invalid_argument:
    case errc::value_too_large:
    case errc::too_deep:
    case errc::too_many_fields:
    case errc::invalid_buffer:
    case errc::version_conflict:
    case errc::session_in_use:
    case errc::fenced:
      return true;
    default:
      return false;
  }
}

bool is_malformed(errc x) {
  return x == errc::invalid_session_id || x == errc::invalid_argument
         || x == errc::invalid_buffer;
}

bool may_have_been_applied(errc x) {
  switch (x) {
    case errc::timeout:
    case errc::hot_unavailable:
    case errc::hot_error:
    case errc::cold_unavailable:
    case errc::cold_error:
    case errc::internal:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(errc x) {
  for (const auto& n : errc_names)
    if (n.code == x)
      return n.token;
  return "unknown_error";
}

bool from_string(std::string_view token, errc& x) {
  for (const auto& n : errc_names)
    if (n.token == token) {
      x = n.code;
      return true;
    }
  return false;
}

const errc* all_errcs(size_t& count) {
  static const auto codes = [] {
    std::array<errc, std::size(errc_names)> result{};
    for (size_t i = 0; i < result.size(); ++i)
      result[i] = errc_names[i].code;
    return result;
  }();
  count = codes.size();
  return codes.data();
}

std::string failure::render() const {
  std::string result{to_string(code)};
  if (!detail.empty()) {
    result += ": ";
    result += detail;
  }
  return result;
}

} // namespace authstore
