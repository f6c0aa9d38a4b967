// store.hpp -- the blocking PostgreSQL adapter of the cold path.
//
// Why: the cold store is the durable copy of every session (invariant 1);
// pg_store is the PostgreSQL implementation of cold_store
// (messages/cold_store.hpp), with mongo_store's semantics, so the generic
// detached worker (actors/cold_worker.hpp) drives either and the supervisor
// in front of it names no backend. CAF-free and blocking: its owner is one
// worker thread. Not thread-safe: one owner, one connection.
//
// Tables (schema.hpp): sessions(sid, v, dv) and fields(sid, field, v, val),
// val the exact Baileys JSON bytes or NULL for a tombstone. Creds fields
// are rows of `fields`, not columns of `sessions`: each needs its own
// version (a late persist of one field must land beside a newer one of
// another), which is the design, not a shortcut.
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
// - Durable state is deleted only by a persist carrying erase (invariant
//   6).
// - Time: statement_timeout = call_timeout for every statement; every
//   round trip also has a client-side deadline of call_timeout +
//   reply_margin (a stopped server never answers); a connect at most
//   connect_timeout; and the whole call, retries and reconnects included,
//   at most call_budget when set (the engine sets it to cold.call-timeout-ms,
//   so the worker stops working on a call about when the supervisor stops
//   waiting for it). Without a budget one call blocks at most about
//   (1 + max_retries) x (connect_timeout + call_timeout + reply_margin +
//   backoff), plus the conflict retries.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "messages/cold_store.hpp"
#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "postgres/error.hpp"
#include "postgres/migrate_mode.hpp"

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
  /// Bound on one whole data call (persist, load): connects, round trips
  /// and retries together; 0 for none. Each wait ends at the earlier of its
  /// own deadline and the budget's.
  std::chrono::milliseconds call_budget{0};
  /// What prepare() may do to the schema (cold.migrate): check only,
  /// create a missing one, or create and upgrade.
  migrate_mode migrate = migrate_mode::apply;
  /// Send each transaction as one pipelined round trip (false: one round
  /// trip per statement; kept to measure what pipelining buys).
  bool pipeline = true;
  /// Where failed attempts (by pg_error_kind), connects and retries are
  /// counted for the metrics (may be null; must outlive the store).
  cold_store_counters* counters = nullptr;
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
class pg_store final : public cold_store {
public:
  /// The backend() of every pg_store: the `backend` label of the metrics.
  static constexpr std::string_view backend_name = "postgresql";

  /// Checks the config and parses the URI (PQconninfoParse); does not
  /// connect (the first call does). invalid_config on a bad URI, another
  /// scheme, a bad schema name or a bound out of range.
  static outcome<std::unique_ptr<pg_store>> open(const pg_store_config& cfg);

  ~pg_store() override;

  /// "postgresql".
  std::string_view backend() const override;

  /// Connects and checks the schema (migrate() in config.migrate's mode:
  /// check, create a missing one, or create and upgrade), the role's
  /// privileges and that the server accepts writes, every round trip
  /// bounded by init_timeout. Called by every new worker and at start by
  /// `authstore serve` and `authstore migrate`; a failure names what to fix
  /// (unreachable, auth, privileges, a newer schema, a read-only server).
  outcome<bool> prepare() override;

  /// prepare(), and what it found and did to the schema.
  outcome<schema_report> prepare_schema();

  /// Writes `req` in one transaction and returns req.version, which the
  /// stored watermark now is at least. invalid_argument, before anything is
  /// sent, by validate_persist (messages/cold_store.hpp).
  outcome<uint64_t> persist(const persist_request& req) override;

  /// The watermark and every live field of `sid`, from one snapshot.
  outcome<session_snapshot> load(const std::string& sid) override;

  /// One round trip (the tests' probe); not retried. Not part of
  /// cold_store: readiness does not depend on the cold store.
  outcome<bool> ping();

  /// The kind of the last failure, none after a success.
  pg_error_kind last_error_kind() const;

  /// Counters since open().
  const pg_store_stats& stats() const;

private:
  struct impl;
  explicit pg_store(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
