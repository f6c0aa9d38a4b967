// api_errors.cpp -- see api_errors.hpp.
#include "runtime/http/api_errors.hpp"

#include <cctype>
#include <optional>

namespace authstore {

namespace {

/// The number after the last `prefix` in an engine detail: the version
/// of version_conflict ("session is at version N", redis/layout.cpp,
/// parse_apply_patch) and the expiry of session_in_use ("expires in N ms",
/// parse_take_lease). A coupling the compiler cannot check: a changed
/// wording only drops the extra member from the reply (the token and status
/// stay), and tests/unit/api_errors_test.cpp pins both wordings.
std::optional<uint64_t> number_after(const std::string& detail,
                                     const std::string& prefix) {
  auto at = detail.rfind(prefix);
  if (at == std::string::npos)
    return std::nullopt;
  uint64_t v = 0;
  size_t i = at + prefix.size();
  size_t digits = 0;
  for (;
       i < detail.size() && std::isdigit(static_cast<unsigned char>(detail[i]));
       ++i, ++digits) {
    if (v > (UINT64_MAX - 9) / 10)
      return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(detail[i] - '0');
  }
  if (digits == 0)
    return std::nullopt;
  return v;
}

bool is_retryable_status(int status) {
  return status == 429 || status == 503 || status == 504;
}

} // namespace

errc_status status_of(errc code) {
  switch (code) {
    case errc::invalid_session_id:
    case errc::invalid_argument:
    case errc::value_too_large:
    case errc::too_deep:
    case errc::too_many_fields:
    case errc::invalid_buffer:
      return {400, false};
    case errc::version_conflict:
    case errc::session_in_use:
    case errc::fenced:
      return {409, false};
    case errc::unauthorized:
      return {401, false};
    case errc::overloaded:
      return {429, true};
    case errc::hot_unavailable:
    case errc::hot_out_of_memory:
    case errc::cold_unavailable:
    case errc::cold_error:
    case errc::shutting_down:
    case errc::unreachable:
      return {503, true};
    case errc::not_owner:
      // Node ownership (issue #19): another node owns the session and could
      // not be reached, or ownership is changing hands. 503, not 409 like
      // `fenced`: nothing was applied and the same request succeeds once
      // the owner answers again or its lease expires (at most
      // cluster.lease-ms), so clients retry it as they retry 503. Not 421
      // (Misdirected Request): the client did nothing wrong, and there is
      // no other address to send it to -- every node forwards.
      return {503, true};
    case errc::timeout:
      return {504, true};
    case errc::hot_error:
    case errc::no_cold_store:
    case errc::protocol_mismatch:
    case errc::internal:
    case errc::invalid_config:
      return {500, false};
    case errc::decrypt_failed:
      // The value is stored but this node cannot open it (key ring, or
      // tampering): the same request gets the same answer until an operator
      // acts, so not retryable.
      return {500, false};
  }
  return {500, false};
}

api_error from_failure(const failure& f, bool is_write) {
  auto s = status_of(f.code);
  api_error e;
  e.status = s.status;
  e.token = std::string{to_string(f.code)};
  e.message = f.detail.empty() ? e.token : f.detail;
  e.retryable = s.retryable;
  e.may_have_applied
    = is_write
      && (f.code == errc::timeout || f.code == errc::hot_unavailable
          || f.code == errc::hot_error);
  if (f.code == errc::version_conflict)
    if (auto v = number_after(f.detail, "session is at version "))
      e.extra["current_version"] = *v;
  // "... expires in N ms" (redis/layout.cpp, parse_take_lease): the same
  // kind of coupling, pinned by tests/unit/api_errors_test.cpp.
  if (f.code == errc::session_in_use)
    if (auto ms = number_after(f.detail, "expires in "))
      e.extra["holder_expires_in_ms"] = *ms;
  return e;
}

api_error http_error(int status, std::string token, std::string message) {
  api_error e;
  e.status = status;
  e.token = std::move(token);
  e.message = std::move(message);
  e.retryable = is_retryable_status(status);
  return e;
}

http_reply to_reply(const api_error& e) {
  json body = json::object();
  body["error"] = e.token;
  body["message"] = e.message;
  body["retryable"] = e.retryable;
  body["may_have_applied"] = e.may_have_applied;
  for (auto& [k, v] : e.extra.items())
    body[k] = v;
  http_reply r;
  r.status = e.status;
  // Replacement instead of an exception: a detail is text for people.
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  r.headers = e.headers;
  if (e.status == 401)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

} // namespace authstore
