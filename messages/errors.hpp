// errors.hpp -- the closed set of things that can go wrong, as values.
//
// Why: a Baileys store that reports a backend failure as "no session" makes
// Baileys call initAuthCreds() and log the account out (invariant 4). So
// "not found" is never an error code here: it is a successful read of nothing,
// carried in the reply (creds_reply::found). Everything else that can fail has
// exactly one code below, with a stable token (to_string) that the CLI, logs,
// metrics labels and remote error renderings all use.
//
// Values are pinned and only ever appended: they cross the middleman as bytes.
// This header is CAF-free; messages/interfaces.hpp turns an errc into a
// caf::error (category "authstore").
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace authstore {

/// Why an operation failed.
enum class errc : uint8_t {
  /// Session id outside the allow-list charset or length 1..128.
  invalid_session_id = 1,
  /// Request is malformed: bad JSON, wrong shape, bad key type or id.
  invalid_argument = 2,
  /// A value, or the whole patch, exceeds the configured byte limit.
  value_too_large = 3,
  /// JSON nesting exceeds the configured depth limit.
  too_deep = 4,
  /// A JSON document has more fields/elements than the configured limit.
  too_many_fields = 5,
  /// A Buffer could not be decoded (invalid base64, bytes outside 0..255).
  invalid_buffer = 6,
  /// An expected-version condition did not hold; nothing was applied.
  version_conflict = 10,
  /// Another holder's client lease on the session is live (and the request
  /// did not ask to take it over); nothing was applied.
  session_in_use = 11,
  /// The write carried a client lease that no longer holds (taken over,
  /// expired, released, or never taken); nothing was applied.
  fenced = 12,
  /// Redis is unreachable or timed out; nothing was acknowledged.
  hot_unavailable = 20,
  /// Redis refused the write for lack of memory (noeviction); nothing applied.
  hot_out_of_memory = 21,
  /// Redis answered something the store did not expect (a bug or a foreign
  /// writer); the operation may not have been applied.
  hot_error = 22,
  /// The cold store is unreachable or its circuit breaker is open.
  cold_unavailable = 30,
  /// The cold store answered with an error.
  cold_error = 31,
  /// The operation needs a cold store and none is configured.
  no_cold_store = 32,
  /// The request did not complete in time; it may or may not have been
  /// applied.
  timeout = 40,
  /// Too many requests outstanding; nothing was applied.
  overloaded = 41,
  /// The node is shutting down; nothing was applied.
  shutting_down = 42,
  /// A remote node cannot be reached (connection refused, lost before the
  /// request was sent, handshake not answered); nothing was applied.
  unreachable = 43,
  /// Node ownership (issue #19): this node does not own the session and
  /// could not hand the request to the node that does (that node is
  /// unreachable, or the ownership is changing hands); nothing was applied.
  /// Retry: a later attempt goes to the new owner, at the latest after
  /// cluster.lease-ms. Not the client lease's `fenced`.
  not_owner = 44,
  /// The peer speaks another protocol version.
  protocol_mismatch = 50,
  /// The peer did not authenticate.
  unauthorized = 51,
  /// An invariant of the store itself broke; see the log.
  internal = 60,
  /// A configuration value is missing, malformed or out of range.
  invalid_config = 70,
  /// A stored value could not be decrypted (issue #17): its key id is not
  /// in the key ring, the key is wrong, or the value was tampered with or
  /// copied from another session or field. Nothing was returned; the value
  /// is still stored. Never "not found".
  decrypt_failed = 80,
};

/// The largest errc value. Appending a value above it must move this too
/// (errors.cpp refuses to compile otherwise).
constexpr errc errc_last = errc::decrypt_failed;

/// Size of an array indexed by errc_slot(): every value up to errc_last,
/// plus one slot for values this build does not know (a newer peer's).
constexpr size_t errc_slots = static_cast<size_t>(errc_last) + 2;

/// The index of `x` in an array of errc_slots counters.
constexpr size_t errc_slot(errc x) {
  auto i = static_cast<size_t>(x);
  return i < errc_slots - 1 ? i : errc_slots - 1;
}

/// The request itself was refused, for its content (names, sizes, shape,
/// encoding) or its condition (version_conflict): sent again unchanged it
/// gets the same answer, and it says nothing about a backend's health.
/// invalid_session_id, invalid_argument, value_too_large, too_deep,
/// too_many_fields, invalid_buffer, version_conflict, session_in_use,
/// fenced.
bool is_request_error(errc x);

/// The data is malformed (ids, names, shape, Buffer encoding): no retry can
/// make it valid, so whoever holds it parks it (the reconciler's
/// quarantine). invalid_session_id, invalid_argument, invalid_buffer; a
/// subset of is_request_error (sizes and depth are limits, not malformation).
bool is_malformed(errc x);

/// An operation that failed with `x` may still have been applied: it may
/// have reached a backend whose answer was lost or is unknown (timeout,
/// hot_unavailable, hot_error, cold_unavailable, cold_error, internal).
/// Every other code means nothing was applied. Re-read before retrying a
/// write that is not idempotent.
bool may_have_been_applied(errc x);

/// The stable token for `x`, e.g. "hot_unavailable".
std::string_view to_string(errc x);

/// Parses a token produced by to_string; returns false for unknown tokens.
bool from_string(std::string_view token, errc& x);

/// Every errc value, in declaration order (for exhaustive tests and metrics).
const errc* all_errcs(size_t& count);

/// An error with its context, as used by the CAF-free layers.
struct failure {
  errc code = errc::internal;
  std::string detail;

  /// "token: detail" -- the one-line rendering for people.
  std::string render() const;
};

/// A value or a failure (std::expected arrives with C++23).
template <class T>
class outcome {
public:
  outcome(T value) : data_(std::move(value)) {}
  outcome(failure f) : data_(std::move(f)) {}
  outcome(errc code, std::string detail)
      : data_(failure{code, std::move(detail)}) {}

  explicit operator bool() const { return data_.index() == 0; }
  T& operator*() { return std::get<0>(data_); }
  const T& operator*() const { return std::get<0>(data_); }
  T* operator->() { return &std::get<0>(data_); }
  const T* operator->() const { return &std::get<0>(data_); }
  const failure& error() const { return std::get<1>(data_); }

private:
  std::variant<T, failure> data_;
};

} // namespace authstore
