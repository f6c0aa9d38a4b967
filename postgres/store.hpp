// store.hpp -- the blocking PostgreSQL adapter of the cold path.
//
// Why: the cold store is the durable copy of every session (invariant 1);
// this is its PostgreSQL implementation, with exactly the operations and
// semantics of mongo_store (persist, load, load_fields, erase, init, ping),
// so one cold-store interface and one detached worker can drive either.
// CAF-free and blocking: its owner is one detached worker thread. Not
// thread-safe: one owner, one connection.
//
// Tables (schema.hpp): sessions(sid, v, dv) and fields(sid, field, v, val),
// val the exact Baileys JSON bytes or NULL for a tombstone.
//
// Guarantees (the same invariants as mongo_store, one transaction each):
// - persist(req) is one transaction, sent as one pipelined round trip:
//     BEGIN; statement_timeout for this call;
//     [erase, D > 0]  sessions: v = max(v, D), dv = max(dv, D) (upserted);
//                     DELETE fields WHERE v <= D;
//     [erase, D = 0]  DELETE the session row and every field row;
//     [fields]        one multi-row upsert (unnest of text[] and bytea[]):
//                     INSERT ... ON CONFLICT (sid, field) DO UPDATE ...
//                     WHERE fields.v < excluded.v, and no row at all when
//                     the session's dv >= V (a late persist from before a
//                     delete leaves nothing behind);
//     [watermark]     sessions: v = V under the same guard (v < V);
//     COMMIT.
//   So a late, duplicate or reordered persist never regresses anything
//   (invariant 3), a tombstone at V stops every older write of its field,
//   and the watermark and the fields are committed together or not at all.
//   It counts only once COMMIT answered COMMIT.
// - A connection lost before COMMIT's answer leaves it unknown whether the
//   transaction committed: the call fails (cold_unavailable), the outbox
//   keeps its marks, and the retry is harmless because every statement is
//   idempotent under its version guard.
// - Serialization failures and deadlocks are retried after a short
//   growing pause (conflict_backoff), up to max_conflict_retries times (fields
//   are upserted in name order, so two persists of one session lock rows in the
//   same order). Transient kinds (connection lost, io_timeout, shutdown, too
//   many connections, a read-only server) close the connection, back off
//   (retry_backoff, doubling) and reconnect, up to max_retries times.
//   Everything else fails at once. A call that found the connection gone
//   reconnects first.
// - load() is one statement in a REPEATABLE READ READ ONLY transaction: one
//   snapshot. Field rows at or below dv and tombstones are left out; found
//   is false only when no live field row exists and the session row is
//   absent or has v == dv. version is the greatest of v and every returned
//   row's v (a late persist's rows may lie below v, never above it here,
//   but the rule is mongo_store's and costs nothing).
// - A backend failure is never "not found" (invariant 4); kinds map to errc
//   in error.hpp. Details carry the operation, the kind, the SQLSTATE and
//   the attempts: never values, session ids, field names or server text.
// - Durable state is deleted only by erase() or a persist carrying erase
//   (invariant 6).
// - Time: statement_timeout = call_timeout for every statement; every
//   round trip also has a client-side deadline of call_timeout +
//   reply_margin (a stopped server never answers); a connect at most
//   connect_timeout. One call blocks at most about (1 + max_retries) x
//   (connect_timeout + call_timeout + reply_margin + backoff), plus the
//   conflict retries.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "postgres/error.hpp"

namespace authstore {

/// How to reach and write to PostgreSQL.
struct pg_store_config {
  /// postgresql:// URI (host, port, dbname, user, password, sslmode, ...;
  /// several hosts with target_session_attrs=read-write for failover).
  std::string uri;
  /// PostgreSQL schema holding the tables ([a-z_][a-z0-9_]{0,62}).
  std::string schema = "authstore";
  /// statement_timeout of every statement (cold.call-timeout-ms).
  std::chrono::milliseconds call_timeout{3000};
  /// Client-side slack beyond call_timeout per round trip, so that the
  /// server's own timeout (a clean 57014) normally fires first.
  std::chrono::milliseconds reply_margin{500};
  /// Bound of one connect, unless the URI sets connect_timeout (seconds).
  std::chrono::milliseconds connect_timeout{5000};
  /// Bound of each round trip of init() (a migration's DDL and its commit
  /// may take longer than a data call; init runs at start, not under load
  /// of callers).
  std::chrono::milliseconds init_timeout{30000};
  /// Retries after the first attempt, for transient kinds.
  int max_retries = 2;
  /// Wait before the first transient retry; doubles on each further one.
  std::chrono::milliseconds retry_backoff{50};
  /// Retries of a transaction that met a serialization failure or deadlock.
  int max_conflict_retries = 5;
  /// Wait before conflict retry n: n x this (a retry at once tends to meet
  /// the same competitor at the same row again).
  std::chrono::milliseconds conflict_backoff{5};
  /// init() may create the schema or apply missing migrations; when false
  /// it only checks (and fails on anything but the current version).
  bool migrate = true;
  /// Send each transaction as one pipelined round trip (false: one round
  /// trip per statement; kept to measure what pipelining buys).
  bool pipeline = true;
};

/// What the store has done since it was opened (for metrics and tests).
struct pg_store_stats {
  uint64_t connects = 0;
  uint64_t conflict_retries = 0;
  uint64_t transient_retries = 0;
  /// Failed attempts by kind (index: pg_error_kind), retried ones included.
  std::array<uint64_t, pg_error_kind_count> errors{};
};

/// A blocking PostgreSQL store for persisted sessions (see the file comment).
class pg_store {
public:
  /// Checks the config and parses the URI (PQconninfoParse); does not
  /// connect (the first call does). invalid_config on a bad URI, another
  /// scheme, a bad schema name or a bound out of range.
  static outcome<std::unique_ptr<pg_store>> open(const pg_store_config& cfg);

  ~pg_store();
  pg_store(const pg_store&) = delete;
  pg_store& operator=(const pg_store&) = delete;

  /// "postgres": the backend label of metrics and status.
  const char* backend() const { return "postgres"; }

  /// Connects and checks the schema (migrate_mode::apply when
  /// config.migrate, check otherwise), the role's privileges and that the
  /// server accepts writes. Call at start; a failure names what to fix.
  outcome<bool> init();

  /// Writes `req` in one transaction and returns req.version, which the
  /// stored watermark now is at least. invalid_argument, before anything is
  /// sent, exactly as mongo_store::persist.
  outcome<uint64_t> persist(const persist_request& req);

  /// The watermark and every live field of `sid`, from one snapshot.
  outcome<session_snapshot> load(const std::string& sid);

  /// As load(), restricted to the named fields (absent ones left out).
  outcome<session_snapshot> load_fields(const std::string& sid,
                                        const std::vector<std::string>& fields);

  /// Deletes the session row and every field row of `sid` in one
  /// transaction; true if anything existed.
  outcome<bool> erase(const std::string& sid);

  /// One round trip (the readiness probe); not retried.
  outcome<bool> ping();

  /// The kind of the last failure, none after a success (metrics label).
  pg_error_kind last_error_kind() const;

  /// Counters since open().
  const pg_store_stats& stats() const;

private:
  struct impl;
  explicit pg_store(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
