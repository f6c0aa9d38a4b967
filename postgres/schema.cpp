// schema.cpp -- the migrations as data and the one function that applies
// them (layout and guarantees in the header).
//
// migrate() in round trips:
//   1. read: does {schema}.schema_version exist, and which version is in it
//      (two statements; the second only when the table exists).
//   2. found == latest: done. found > latest: refused. Otherwise (apply
//      mode) one transaction: the advisory lock, create the schema and the
//      version table if missing, re-read the version FOR UPDATE (another
//      node may have migrated meanwhile) ...
//   3. ... then the missing migrations' statements, the new version, COMMIT.
//   4. the access check: USAGE on the schema and SELECT, INSERT, UPDATE,
//      DELETE on both tables, and a server encoding that keeps text as sent.
#include "postgres/schema.hpp"

#include "postgres/wire.hpp"

namespace authstore {

namespace {

// The version table itself is not a migration: migrate() must be able to
// create it before it knows anything else.
const char* const create_version_table
  = "CREATE TABLE IF NOT EXISTS {schema}.schema_version ("
    " singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
    " version integer NOT NULL CHECK (version >= 0),"
    " updated_at timestamptz NOT NULL DEFAULT now())";

// The DDL of each released version. Never edit a released entry: append.
// fillfactor 80: every persist updates rows in place, and free space on the
// page lets those be HOT updates (no index entry written).
const std::vector<pg_migration> migrations = {
  {1,
   {"CREATE TABLE {schema}.sessions ("
    " sid text PRIMARY KEY,"
    " v bigint NOT NULL CHECK (v >= 0),"
    " dv bigint NOT NULL DEFAULT 0 CHECK (dv >= 0),"
    " CHECK (dv <= v)) WITH (fillfactor = 80)",
    "CREATE TABLE {schema}.fields ("
    " sid text NOT NULL,"
    " field text NOT NULL CHECK (field LIKE 'c:_%' OR field LIKE 'k:_%/_%'),"
    " v bigint NOT NULL CHECK (v > 0),"
    " val bytea,"
    " PRIMARY KEY (sid, field)) WITH (fillfactor = 80)",
    "COMMENT ON TABLE {schema}.sessions IS 'authstore: per session the "
    "persisted watermark v and the delete mark dv (fields at or below dv are "
    "deleted)'",
    "COMMENT ON TABLE {schema}.fields IS 'authstore: per session one row per "
    "creds field (c:name) and key (k:type/id); val is the exact Baileys JSON "
    "text, NULL for a delete at version v'"}},
};

using clock = pg_connection::clock;

failure fail(pg_error_kind* out, pg_error_kind kind, std::string detail) {
  if (out)
    *out = kind;
  std::string text = "postgres schema: " + std::move(detail);
  if (!hint(kind).empty())
    text += "; " + std::string(hint(kind));
  return failure{to_errc(kind), std::move(text)};
}

failure fail_batch(pg_error_kind* out, const char* step,
                   const pg_batch_result& r) {
  std::string detail
    = std::string(step) + ": " + std::string(to_string(r.kind));
  if (!r.sqlstate.empty())
    detail += " (sqlstate " + r.sqlstate + ")";
  return fail(out, r.kind, std::move(detail));
}

failure mismatch(pg_error_kind* out, const std::string& schema, int32_t found,
                 const char* what_to_do) {
  return fail(out, pg_error_kind::schema_mismatch,
              "\"" + schema + "\" is at version " + std::to_string(found)
                + ", this build speaks version "
                + std::to_string(latest_schema_version) + ": " + what_to_do);
}

// Step 1: the version in place, 0 without a version table.
outcome<int32_t> read_version(pg_connection& conn, const std::string& schema,
                              clock::time_point deadline, pg_error_kind* kind) {
  static const char* const exists = "SELECT to_regclass($1) IS NOT NULL";
  auto r = conn.run(
    {sql(exists, {text_param(with_schema("{schema}.schema_version", schema))})},
    deadline);
  bool found = false;
  if (!r.ok())
    return fail_batch(kind, "read version", r);
  if (!read_bool(r.results[0].get(), 0, 0, found))
    return fail(kind, pg_error_kind::protocol, "read version: bad reply");
  if (!found)
    return 0;
  auto text
    = with_schema("SELECT version FROM {schema}.schema_version", schema);
  r = conn.run({sql(text.c_str())}, deadline);
  if (!r.ok())
    return fail_batch(kind, "read version", r);
  int32_t version = 0;
  if (PQntuples(r.results[0].get()) == 0)
    return 0;
  if (!read_int4(r.results[0].get(), 0, 0, version))
    return fail(kind, pg_error_kind::protocol, "read version: bad reply");
  return version;
}

// Steps 2 and 3: creates or upgrades under the lock; the version now.
outcome<int32_t> apply(pg_connection& conn, const std::string& schema,
                       clock::time_point deadline, pg_error_kind* kind) {
  // Held to the end of the transaction: concurrent migrators queue here.
  static const char* const lock
    = "SELECT pg_advisory_xact_lock(hashtext('authstore.migrate.' || $1))";
  // IF NOT EXISTS in a DO block: CREATE SCHEMA IF NOT EXISTS checks the
  // database's CREATE privilege even when the schema exists.
  std::string create_schema
    = "DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = '"
      + schema + "') THEN CREATE SCHEMA " + with_schema("{schema}", schema)
      + "; END IF; END$$";
  std::string create_table = with_schema(create_version_table, schema);
  std::string seed = with_schema("INSERT INTO {schema}.schema_version "
                                 "(singleton, version) VALUES (true, 0) "
                                 "ON CONFLICT DO NOTHING",
                                 schema);
  std::string reread = with_schema(
    "SELECT version FROM {schema}.schema_version FOR UPDATE", schema);
  auto r = conn.run({sql("BEGIN"), sql(lock, {text_param(schema)}),
                     sql(create_schema.c_str()), sql(create_table.c_str()),
                     sql(seed.c_str()), sql(reread.c_str())},
                    deadline);
  if (!r.ok())
    return fail_batch(kind, "lock", r);
  int32_t now = 0;
  if (!read_int4(r.results.back().get(), 0, 0, now)) {
    conn.run({sql("ROLLBACK")}, deadline);
    return fail(kind, pg_error_kind::protocol, "lock: bad reply");
  }
  if (now > latest_schema_version) {
    conn.run({sql("ROLLBACK")}, deadline);
    return mismatch(kind, schema, now,
                    "upgrade authstore (an older build must not write it)");
  }
  std::vector<std::string> texts;
  for (const auto& m : migrations)
    if (m.version > now)
      for (const auto& s : m.statements)
        texts.push_back(with_schema(s, schema));
  texts.push_back(with_schema("UPDATE {schema}.schema_version SET version = "
                                + std::to_string(latest_schema_version)
                                + ", updated_at = now()",
                              schema));
  std::vector<pg_statement> batch;
  for (const auto& t : texts)
    batch.push_back(sql(t.c_str()));
  batch.push_back(sql("COMMIT"));
  r = conn.run(batch, deadline);
  if (!r.ok())
    return fail_batch(kind, "migrate", r);
  if (std::string(PQcmdStatus(r.results.back().get())) != "COMMIT")
    return fail(kind, pg_error_kind::protocol, "migrate: not committed");
  return latest_schema_version;
}

// Step 4: the privileges the store needs and an encoding that keeps text.
outcome<bool> check_access(pg_connection& conn, const std::string& schema,
                           clock::time_point deadline, pg_error_kind* kind) {
  // One has_table_privilege per privilege: given a list, it answers
  // whether *any* of them is held.
  static const char* const query
    = "SELECT has_schema_privilege($1, 'USAGE'),"
      " has_table_privilege($2, 'SELECT') AND has_table_privilege($2, "
      "'INSERT') AND has_table_privilege($2, 'UPDATE') AND "
      "has_table_privilege($2, 'DELETE'),"
      " has_table_privilege($3, 'SELECT') AND has_table_privilege($3, "
      "'INSERT') AND has_table_privilege($3, 'UPDATE') AND "
      "has_table_privilege($3, 'DELETE'),"
      " current_setting('server_encoding') IN ('UTF8', 'SQL_ASCII')";
  auto r = conn.run(
    {sql(query, {text_param(schema),
                 text_param(with_schema("{schema}.sessions", schema)),
                 text_param(with_schema("{schema}.fields", schema))})},
    deadline);
  if (!r.ok())
    return fail_batch(kind, "check access", r);
  bool usage = false, sessions = false, fields = false, encoding = false;
  const auto* row = r.results[0].get();
  if (!read_bool(row, 0, 0, usage) || !read_bool(row, 0, 1, sessions)
      || !read_bool(row, 0, 2, fields) || !read_bool(row, 0, 3, encoding))
    return fail(kind, pg_error_kind::protocol, "check access: bad reply");
  if (!usage || !sessions || !fields)
    return fail(kind, pg_error_kind::insufficient_privilege,
                "the role lacks "
                  + std::string(!usage ? "USAGE on schema \"" + schema + "\""
                                : !sessions ? "SELECT, INSERT, UPDATE, DELETE "
                                              "on the sessions table"
                                            : "SELECT, INSERT, UPDATE, DELETE "
                                              "on the fields table"));
  if (!encoding)
    return fail(kind, pg_error_kind::other,
                "the database encoding is neither UTF8 nor SQL_ASCII: "
                "session ids and field names would be converted; create the "
                "database with ENCODING 'UTF8'");
  return true;
}

} // namespace

const std::vector<pg_migration>& pg_migrations() {
  return migrations;
}

std::string with_schema(const std::string& statement,
                        const std::string& schema) {
  static const std::string placeholder = "{schema}";
  std::string out;
  size_t at = 0;
  for (size_t next;
       (next = statement.find(placeholder, at)) != std::string::npos;
       at = next + placeholder.size())
    out.append(statement, at, next - at).append("\"" + schema + "\"");
  out.append(statement, at, std::string::npos);
  return out;
}

bool is_valid_schema_name(const std::string& schema) {
  if (schema.empty() || schema.size() > 63)
    return false;
  for (size_t i = 0; i < schema.size(); ++i) {
    char c = schema[i];
    bool ok
      = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

outcome<schema_report> migrate(pg_connection& conn, const std::string& schema,
                               migrate_mode mode, clock::time_point deadline,
                               pg_error_kind* kind) {
  if (kind)
    *kind = pg_error_kind::none;
  if (!is_valid_schema_name(schema))
    return failure{
      errc::invalid_config,
      "postgres schema: the name must match [a-z_][a-z0-9_]{0,62}"};
  auto found = read_version(conn, schema, deadline, kind);
  if (!found)
    return found.error();
  schema_report report{*found, *found};
  if (*found > latest_schema_version)
    return mismatch(kind, schema, *found,
                    "upgrade authstore (an older build must not write it)");
  if (*found < latest_schema_version) {
    // if-missing creates a schema where there is none, but an existing one
    // is upgraded only on purpose (always-up or `authstore migrate`): other
    // nodes of an older build may still be writing into it.
    if (mode == migrate_mode::check
        || (mode == migrate_mode::create && *found != 0))
      return mismatch(kind, schema, *found,
                      "run `authstore migrate --cold URI`, or allow the "
                      "migration at start (cold.migrate = always-up)");
    auto now = apply(conn, schema, deadline, kind);
    if (!now)
      return now.error();
    report.now = *now;
  }
  auto access = check_access(conn, schema, deadline, kind);
  if (!access)
    return access.error();
  return report;
}

} // namespace authstore
