// error.cpp -- every libmongoc domain and MongoDB server code the store
// knows, and what each means (error.hpp).
//
// Server codes are MongoDB's (src/mongo/base/error_codes.yml); the legacy
// duplicate-key codes 11001 and 12582 still come from old servers and
// mongos. A code not listed is a command_error in MONGOC_ERROR_SERVER and a
// write_error in MONGOC_ERROR_WRITE_CONCERN: a refusal we do not retry.
#include "mongo/error.hpp"

#include <iterator>
#include <string>

#include <mongoc/mongoc.h>

namespace authstore {

namespace {

mongo_error_kind classify_server_code(uint32_t code) {
  switch (code) {
    case 11000: // DuplicateKey
    case 11001: // legacy DuplicateKey on update
    case 12582: // legacy DuplicateKey on insert
      return mongo_error_kind::duplicate_key;
    case 91:    // ShutdownInProgress
    case 189:   // PrimarySteppedDown
    case 10058: // LegacyNotPrimary
    case 10107: // NotWritablePrimary
    case 11600: // InterruptedAtShutdown
    case 11602: // InterruptedDueToReplStateChange
    case 13435: // NotPrimaryNoSecondaryOk
    case 13436: // NotPrimaryOrSecondary
      return mongo_error_kind::not_primary;
    case 50:  // MaxTimeMSExpired
    case 64:  // WriteConcernFailed (wtimeout)
    case 89:  // NetworkTimeout (server to server)
    case 262: // ExceededTimeLimit
      return mongo_error_kind::timeout;
    case 6:    // HostUnreachable
    case 7:    // HostNotFound
    case 9001: // SocketException
      return mongo_error_kind::network;
    default:
      return mongo_error_kind::none;
  }
}

/// A server code from a reply document, in the domain it was reported in.
mongo_status server_status(uint32_t domain, int64_t code) {
  bson_error_t e{};
  e.domain = domain;
  e.code = static_cast<uint32_t>(code);
  return status_of(e);
}

} // namespace

std::string_view to_string(mongo_error_kind x) {
  // Indexed by the enum's value; keep in declaration order.
  static constexpr std::string_view names[]
    = {"none",        "duplicate_key", "network",       "timeout",
       "not_primary", "write_error",   "command_error", "other"};
  auto i = static_cast<size_t>(x);
  return i < std::size(names) ? names[i] : "other";
}

mongo_error_kind classify(const bson_error_t& e) {
  switch (e.domain) {
    case 0:
      return e.code == 0 ? mongo_error_kind::none : mongo_error_kind::other;
    case MONGOC_ERROR_STREAM:
      // Refused, reset, hung up or timed out: libmongoc 1.23 reports a
      // socket timeout and a peer hang-up with the same code.
      return mongo_error_kind::network;
    case MONGOC_ERROR_SERVER_SELECTION:
      return e.code == MONGOC_ERROR_SERVER_SELECTION_FAILURE
               ? mongo_error_kind::network
               : mongo_error_kind::other;
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_WRITE_CONCERN: {
      auto kind = classify_server_code(e.code);
      if (kind != mongo_error_kind::none)
        return kind;
      return e.domain == MONGOC_ERROR_SERVER ? mongo_error_kind::command_error
                                             : mongo_error_kind::write_error;
    }
    default:
      // Client-side: authentication, protocol, BSON, invalid arguments; and
      // a server code in a legacy (API version 1) domain, not trusted.
      return mongo_error_kind::other;
  }
}

bool is_retryable(mongo_error_kind x) {
  return x == mongo_error_kind::network || x == mongo_error_kind::not_primary;
}

errc to_errc(mongo_error_kind x) {
  switch (x) {
    case mongo_error_kind::network:
    case mongo_error_kind::not_primary:
      return errc::cold_unavailable;
    case mongo_error_kind::timeout:
      return errc::timeout;
    default:
      return errc::cold_error;
  }
}

void use_classified_error_api(mongoc_client_t* client) {
  mongoc_client_set_error_api(client, MONGOC_ERROR_API_VERSION_2);
}

mongo_status status_of(const bson_error_t& e) {
  return {classify(e), e.domain, e.code};
}

mongo_status malformed(const char* what) {
  return {mongo_error_kind::other, 0, 0, what};
}

mongo_status duplicate_key_again() {
  return server_status(MONGOC_ERROR_SERVER, 11000);
}

failure to_failure(std::string_view op, const mongo_status& s) {
  std::string detail(op);
  detail += ": ";
  detail += to_string(s.kind);
  if (s.note) {
    detail += " (";
    detail += s.note;
    detail += ")";
  } else {
    detail += " (mongoc domain " + std::to_string(s.domain) + " code "
              + std::to_string(s.code) + ")";
  }
  detail += " after " + std::to_string(s.attempts) + " attempt(s)";
  return failure{to_errc(s.kind), std::move(detail)};
}

mongo_status judge_bulk(const bson_error_t& error,
                        const bulk_reply_errors& reply, size_t items,
                        std::vector<size_t>& duplicates) {
  mongo_status s = status_of(error);
  switch (s.kind) {
    case mongo_error_kind::network:
    case mongo_error_kind::not_primary:
    case mongo_error_kind::timeout:
    case mongo_error_kind::other:
      return s;
    default:
      break;
  }
  if (reply.has_write_concern_error)
    return reply.write_concern_code_present
             ? server_status(MONGOC_ERROR_WRITE_CONCERN,
                             reply.write_concern_code)
             : malformed("write concern error without code");
  if (!reply.has_write_errors)
    return s; // a command-level error
  std::vector<size_t> found;
  for (const auto& item : reply.write_errors) {
    if (!item.complete || item.index < 0
        || static_cast<size_t>(item.index) >= items)
      return malformed("write error without code or index");
    if (classify_server_code(static_cast<uint32_t>(item.code))
        != mongo_error_kind::duplicate_key)
      return {mongo_error_kind::write_error, error.domain,
              static_cast<uint32_t>(item.code)};
    found.push_back(static_cast<size_t>(item.index));
  }
  if (found.empty())
    return s;
  duplicates.insert(duplicates.end(), found.begin(), found.end());
  return {};
}

} // namespace authstore
