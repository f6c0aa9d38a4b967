// error.hpp -- the one translation of MongoDB failures into kinds and errc.
//
// Why one place: retries, the breaker (through errc), metrics and error
// details must agree on what a failure means, and libmongoc reports the same
// condition in several shapes (a bson_error_t from a call, an item in a bulk
// reply's writeErrors, an entry of writeConcernErrors). Everything that reads
// a libmongoc domain or a server code lives in error.cpp; the store and the
// document readers only carry the numbers here (userver's mongo_error.cpp
// habit, HOUSE-STYLE rule 7).
//
// Guarantees:
// - Classification reads domain and code only, never message text: server
//   messages quote the duplicate key, i.e. a session id and a field name, and
//   text that lies about the error changes nothing.
// - Duplicate key (E11000) is its own kind: for a version-guarded upsert it
//   means "already newer", a success; the store decides that, not this file.
// - A socket timeout and a hang-up are the same kind (network): libmongoc
//   1.23 reports both as MONGOC_ERROR_STREAM / MONGOC_ERROR_STREAM_SOCKET.
//   errc::timeout is for server-side limits (maxTimeMS, wtimeout).
// - Relies on error API version 2 (use_classified_error_api below): server
//   errors then arrive in their own domains with the server's code and never
//   collide with libmongoc's client-side codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include <bson/bson.h>

#include "messages/errors.hpp"

typedef struct _mongoc_client_t mongoc_client_t;

namespace authstore {

/// What kind of failure a libmongoc error is; the only input to retries,
/// errc mapping and metrics labels (never message text).
enum class mongo_error_kind : uint8_t {
  /// No error.
  none,
  /// E11000: the document exists (for a guarded upsert: already newer).
  duplicate_key,
  /// Unreachable, connection refused or dropped, socket timeout, no server
  /// selectable. Transient: retried.
  network,
  /// A server-side time limit: maxTimeMS, write concern wtimeout.
  timeout,
  /// The server is not (or no longer) primary, or is shutting down.
  /// Transient: retried.
  not_primary,
  /// The server refused a write (validation, bad update, ...).
  write_error,
  /// The server refused a command ({ok: 0}).
  command_error,
  /// Anything else: authentication, protocol, our own invalid arguments.
  other,
};

/// Number of mongo_error_kind values (for per-kind counters and metrics).
constexpr size_t mongo_error_kind_count
  = static_cast<size_t>(mongo_error_kind::other) + 1;

/// The stable token for `x` ("duplicate_key", ...), for details and metrics.
std::string_view to_string(mongo_error_kind x);

/// Translates a libmongoc error (API version 2) by domain and code.
mongo_error_kind classify(const bson_error_t& error);

/// True for the kinds worth retrying at once (network, not_primary).
bool is_retryable(mongo_error_kind x);

/// The errc a failure of kind `x` is reported as: cold_unavailable for
/// network and not_primary, timeout for timeout, cold_error otherwise.
errc to_errc(mongo_error_kind x);

/// Sets the error API the classifier is written for on `client` (call once
/// per client, before its first command).
void use_classified_error_api(mongoc_client_t* client);

/// The outcome of one step (one libmongoc call): a kind with the libmongoc
/// domain and code it came from, or our own finding about a reply (`note`).
/// Never the error's message text.
struct mongo_status {
  mongo_error_kind kind = mongo_error_kind::none;
  uint32_t domain = 0;
  uint32_t code = 0;
  /// Our own finding (e.g. a malformed document) instead of a libmongoc one;
  /// a string literal.
  const char* note = nullptr;
  /// Attempts the step took (set by the store's retry loop).
  int attempts = 1;

  bool ok() const { return kind == mongo_error_kind::none; }
};

/// The status of a failed libmongoc call.
mongo_status status_of(const bson_error_t& error);

/// A reply that does not have the shape we rely on (kind other, no codes).
mongo_status malformed(const char* what);

/// A guarded item answered E11000 once more in its confirm round, where
/// that is final (e.g. the unguarded erase mark).
mongo_status duplicate_key_again();

/// The failure `op` reports for `s`: errc from the kind, and a detail of
/// operation, kind, libmongoc domain and code (or the note) and attempts --
/// never values, session ids, field names or server text.
failure to_failure(std::string_view op, const mongo_status& s);

/// The error entries of a bulk write reply, as read from the document
/// (mongo/documents.hpp reads them; this file judges them).
struct bulk_reply_errors {
  /// One entry of writeErrors.
  struct item {
    /// Both code and index are integers (otherwise the reply is malformed).
    bool complete = false;
    int64_t index = 0;
    int64_t code = 0;
  };
  /// writeConcernErrors has at least one entry.
  bool has_write_concern_error = false;
  /// ... and the first one carries a code (then in write_concern_code).
  bool write_concern_code_present = false;
  int64_t write_concern_code = 0;
  /// writeErrors exists (it may still be empty).
  bool has_write_errors = false;
  /// Its entries, in reply order.
  std::vector<item> write_errors;
};

/// Judges a failed bulk of `items` upserts: `error` is what
/// mongoc_bulk_operation_execute reported, `reply` the errors its reply
/// carried. Returns ok when every failed item is a duplicate key, with
/// their positions (0..items-1) appended to `duplicates`; anything else
/// fails the step. A network-level error, a timeout, not primary or a
/// client-side error wins over item errors (a later batch may not have been
/// sent at all), a write concern error over write errors.
mongo_status judge_bulk(const bson_error_t& error,
                        const bulk_reply_errors& reply, size_t items,
                        std::vector<size_t>& duplicates);

} // namespace authstore
