// schema.hpp -- the PostgreSQL schema of the cold store, created and
// versioned by authstore itself.
//
// Why here and as data: the tables are the store's contract with every node
// that shares the database, so their shape is versioned like a wire
// format. Each migration is a version and the statements that take the
// previous version to it; `schema_version` holds one row with the version
// applied. migrate() is the one way to apply them: `authstore migrate
// --cold URI` calls it explicitly (migrate_mode::apply), and
// pg_store::prepare() calls it at start in the mode `cold.migrate` allows
// (pg_store_config::migrate: never = only check, if-missing = create a
// missing schema but upgrade nothing, always-up = create or upgrade).
//
// Layout (version 1), in one PostgreSQL schema (pg_store_config::schema):
//   sessions(sid text PK, v bigint, dv bigint)
//       v: the watermark (every field up to v is stored); dv: the delete
//       mark ("deleted at version", 0 = never), dv <= v; both only grow.
//   fields(sid text, field text, v bigint, val bytea, PK (sid, field))
//       one row per creds field ("c:<name>") and per key ("k:<type>/<id>"),
//       the outbox's field names (model.hpp); val is the exact Baileys JSON
//       text as bytes, NULL for a tombstone (a versioned delete). Creds
//       fields are rows, not columns of `sessions`: each carries its own
//       version, or a late persist of one field could not land beside a
//       newer one of another (invariant 3).
//   schema_version(singleton bool PK, version int, updated_at timestamptz)
// bytea, not jsonb (which reorders keys and drops duplicates) nor text
// (which an encoding conversion could touch): a value reads back byte for
// byte. Nothing in the schema parses a value.
//
// Guarantees:
// - migrate() runs in one transaction under a transaction-scoped advisory
//   lock, re-reading the version under the lock: two nodes starting at once
//   apply each migration once; a failed migration leaves the old version.
// - A schema newer than this build (latest_schema_version) is refused with
//   schema_mismatch naming both versions, and nothing is changed: an old
//   binary never writes into tables it does not understand.
// - Migrations only add; the DDL of a released version never changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/errors.hpp"
#include "postgres/connection.hpp"
#include "postgres/migrate_mode.hpp"

namespace authstore {

/// The schema version this build reads and writes.
constexpr int32_t latest_schema_version = 1;

/// One step of the schema's history: the statements (with `{schema}` for
/// the quoted schema name) that take version - 1 to `version`.
struct pg_migration {
  int32_t version;
  std::vector<std::string> statements;
};

/// Every migration, in order (version 1 first).
const std::vector<pg_migration>& pg_migrations();

/// Checks (with migrate_mode::create, creates in a database without one;
/// with migrate_mode::apply, brings up to date) the schema `schema` over
/// `conn`, every round trip before `deadline`. Failures: schema_mismatch (a
/// newer version; or an older one the mode may not upgrade), as
/// invalid_config naming both versions and what to do; the connection's
/// own kinds (insufficient_privilege, ...) via to_errc. `kind`, when
/// given, receives the kind of a failure.
outcome<schema_report> migrate(pg_connection& conn, const std::string& schema,
                               migrate_mode mode,
                               pg_connection::clock::time_point deadline,
                               pg_error_kind* kind = nullptr);

/// `statement` with every `{schema}` replaced by the quoted `schema`.
std::string with_schema(const std::string& statement,
                        const std::string& schema);

/// Whether `schema` is a name the store accepts: [a-z_][a-z0-9_]{0,62}
/// (quoted anyway; the rule keeps names portable and quoting trivial).
bool is_valid_schema_name(const std::string& schema);

} // namespace authstore
