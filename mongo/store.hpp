// store.hpp -- the blocking MongoDB adapter of the cold path.
//
// Why: the cold store is the durable copy of every session (invariant 1).
// mongo_store is the MongoDB implementation of cold_store
// (messages/cold_store.hpp): with mongo/documents.hpp (the BSON) and
// mongo/error.hpp (the one classifier of libmongoc errors) it is the only
// code that speaks libmongoc. It is CAF-free and blocking: a cold worker
// (actors/cold_worker.hpp, detached, its own thread) opens exactly one
// mongo_store on its thread and calls it; the cold_supervisor in front of
// the worker holds the circuit breaker and the call timeout. Not
// thread-safe: one owner.
//
// Document model (database `config.database`):
//   keys:     {_id: {s: <sid>, f: <field>}, v: <int64>, val: <JSON text>}
//             tombstone: {_id: {s, f}, v: <int64>, del: true} (no val)
//   sessions: {_id: <sid>, v: <int64 watermark>, dv: <int64 erase mark>}
//             dv ("deleted at version") is present only once a versioned
//             erase ran; v >= dv always (both only ever grow).
// Field names are "c:<creds field>" / "k:<type>/<id>" (model.hpp). They are
// only ever BSON *values* (inside _id), never field paths, so ids with dots,
// `$` or slashes are stored as they are. The compound _id makes (sid, field)
// unique without relying on a secondary index; prepare() adds
// {"_id.s": 1} ("by_session") so load() and the erases of one session do
// not scan the collection (a filter on "_id.s" cannot use the _id index).
//
// Guarantees:
// - persist(sid, V, fields) is idempotent and never regresses (invariant 3):
//   every upsert is guarded by {v: {$lt: V}}; a stored doc with v >= V makes
//   the upsert insert a duplicate _id, and that E11000 means "already newer",
//   a success. Deletes are versioned tombstones under the same guard, so an
//   older write never resurrects a deleted key. Items that got E11000 are
//   sent once more (the "confirm round"): a concurrent first insert by
//   another writer also yields E11000, and only a second attempt against the
//   now existing doc tells "newer" from "lost the race". The session doc
//   (the watermark) is written last, with the same guard, only after every
//   key doc was acknowledged.
// - A delete travels the same outbox as writes: persist with erase and
//   erase_version D first raises the session doc to v = dv = D ($max,
//   upserted), then deletes the key docs with v <= D. Reads hide key docs
//   with v <= dv, and a session doc with v == dv (nothing written since the
//   delete) is "not found". A late persist at V <= D (read before the delete,
//   arriving after it) cannot resurrect anything: its key upserts find no doc
//   and insert orphans at v = V <= dv, which reads never return, and its
//   watermark upsert meets v = D >= V, i.e. E11000, "already newer". A
//   re-create at V > D writes key docs at V (visible) and moves v past dv.
//   If the erase mark is written and the key delete then fails, the mark
//   alone already hides the old docs; the retried persist deletes them.
//   erase_version 0 (Redis had no trace of the session) is the
//   unconditional erase, with no mark: it cannot fence off a late persist.
// - A backend failure is never "not found" (invariant 4): load() returns
//   found=false only after reads that succeeded and found nothing.
// - Durable state is deleted only by a persist carrying erase, never by a
//   TTL (invariant 6).
// - Transient failures (network, not primary) are retried max_retries times
//   with exponential backoff (libmongoc adds ~0.5 s before it re-checks a
//   failed server); every attempt is bounded by the URI's connectTimeoutMS /
//   socketTimeoutMS / serverSelectionTimeoutMS, so one step (one round trip)
//   blocks at most about (1 + max_retries) x (those timeouts + 0.5 s +
//   backoff). persist has up to seven steps (an erase up to three: the
//   mark, once more after a concurrent insert, the key delete; then the
//   fields up to four), load two.
// - What a failure means (its kind, whether it is retried, its errc) is
//   decided in mongo/error.cpp only; a socket timeout and a hang-up are both
//   network, errc::cold_unavailable, and errc::timeout is for server-side
//   limits.
// - Failure details carry operation, kind and libmongoc domain/code only:
//   never values, session ids, field names or server message text.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "messages/cold_store.hpp"
#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "mongo/error.hpp"

namespace authstore {

/// How to reach and write to MongoDB.
struct mongo_store_config {
  /// mongodb:// URI: timeouts (connectTimeoutMS, socketTimeoutMS,
  /// serverSelectionTimeoutMS), TLS and credentials come from here. One
  /// client, no pool (one owner thread), so maxPoolSize does not apply.
  /// Unless the URI says otherwise, socketTimeoutMS is 10 s (not libmongoc's
  /// 5 min) and retryReads/retryWrites are off: max_retries is the policy.
  std::string uri;
  /// Database holding the `keys` and `sessions` collections.
  std::string database = "authstore";
  /// Write concern w: "majority", a tag set name, or a node count ("1").
  /// "0" (unacknowledged) is refused: E11000 must reach us.
  std::string write_w = "majority";
  /// Write concern j: wait for the journal.
  bool write_journal = true;
  /// Write concern wtimeout; 0 leaves it unset (the socket timeout bounds
  /// the wait). 5 s: long enough for a healthy majority, short enough that
  /// a lost majority fails the call before the supervisor's own timeout.
  std::chrono::milliseconds write_timeout{5000};
  /// Retries after the first attempt, for transient kinds only.
  int max_retries = 2;
  /// Wait before the first retry; doubles on each further retry.
  std::chrono::milliseconds retry_backoff{50};
  /// Where failed attempts are counted by mongo_error_kind (may be null;
  /// must outlive the store).
  cold_store_counters* counters = nullptr;
};

/// A blocking MongoDB store for persisted sessions (see the file comment).
class mongo_store final : public cold_store {
public:
  /// The backend() of every mongo_store.
  static constexpr std::string_view backend_name = "mongodb";

  /// Parses the URI and creates the client; does not connect (the first
  /// call does). Fails with invalid_config on a bad URI or write concern.
  static outcome<std::unique_ptr<mongo_store>>
  open(const mongo_store_config& cfg);

  ~mongo_store() override;

  /// "mongodb".
  std::string_view backend() const override;

  /// Creates the by_session index on keys; call at start and report failure.
  outcome<bool> prepare() override;

  /// Writes `req` and returns req.version, which the stored watermark now is
  /// at least (after validate_persist, messages/cold_store.hpp). In order: when
  /// req.erase, the erase (erase_version D > 0: the mark v = dv = D, then the
  /// key docs with v <= D are deleted; D == 0: the unconditional erase, the
  /// session doc first, then every key doc and tombstone); then, with fields,
  /// the key docs and the watermark; without fields and without erase, the
  /// watermark alone. invalid_argument, before anything is sent, when version
  /// is 0 (allowed only for an erase without fields) or above INT64_MAX, or
  /// when erase_version > version.
  outcome<uint64_t> persist(const persist_request& req) override;

  /// Reads the watermark and every live field of `sid`; key docs at or below
  /// the erase mark dv are left out. found is false only when no live key
  /// doc exists and the session doc is absent or has v == dv (deleted and
  /// not written since). version is the greatest of the session doc's v (0
  /// without one) and the v of every key doc returned: a persist in progress
  /// may have written newer key docs than the watermark says, and a
  /// read-through warms Redis at `version`, so the next write (version + 1)
  /// must outrank every stored key doc or its guarded upsert would be
  /// dropped as "already newer". A live key doc without a valid v is a
  /// failure (cold_error), like one without val.
  outcome<session_snapshot> load(const std::string& sid) override;

  /// Round trip to the server, unretried. Not part of cold_store: no
  /// production caller (readiness does not depend on the cold store); the
  /// wire tests use it to see a server answer.
  outcome<bool> ping();

  /// The kind of the last failure, none after a success.
  mongo_error_kind last_error_kind() const;

private:
  struct impl;
  explicit mongo_store(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
