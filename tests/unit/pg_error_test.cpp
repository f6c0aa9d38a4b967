// Tests of postgres/error.hpp: every kind, where it comes from, what errc
// it becomes and whether it is retried -- exhaustively over the enum.
#include "postgres/error.hpp"

#include <set>
#include <string>
#include <vector>

#include <libpq-fe.h>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_error_test {

using namespace authstore;
using k = pg_error_kind;

namespace {

// One row per kind: its token, the errc it is reported as, and its retry
// class. The test below checks that the rows cover the enum exactly.
struct expectation {
  k kind;
  const char* token;
  errc code;
  bool conflict;
  bool transient;
};

const std::vector<expectation> expected = {
  {k::none, "none", errc::cold_error, false, false},
  {k::serialization_failure, "serialization_failure", errc::cold_error, true,
   false},
  {k::deadlock, "deadlock", errc::cold_error, true, false},
  {k::read_only, "read_only", errc::cold_unavailable, false, true},
  {k::disk_full, "disk_full", errc::cold_error, false, false},
  {k::out_of_memory, "out_of_memory", errc::cold_error, false, false},
  {k::too_many_connections, "too_many_connections", errc::cold_unavailable,
   false, true},
  {k::auth_failed, "auth_failed", errc::invalid_config, false, false},
  {k::insufficient_privilege, "insufficient_privilege", errc::invalid_config,
   false, false},
  {k::undefined_object, "undefined_object", errc::invalid_config, false, false},
  {k::invalid_database, "invalid_database", errc::invalid_config, false, false},
  {k::statement_timeout, "statement_timeout", errc::timeout, false, false},
  {k::lock_timeout, "lock_timeout", errc::timeout, false, false},
  {k::admin_shutdown, "admin_shutdown", errc::cold_unavailable, false, true},
  {k::connection_lost, "connection_lost", errc::cold_unavailable, false, true},
  {k::connect_failed, "connect_failed", errc::cold_unavailable, false, true},
  {k::io_timeout, "io_timeout", errc::cold_unavailable, false, true},
  {k::constraint_violation, "constraint_violation", errc::cold_error, false,
   false},
  {k::schema_mismatch, "schema_mismatch", errc::invalid_config, false, false},
  {k::protocol, "protocol", errc::cold_error, false, false},
  {k::other, "other", errc::cold_error, false, false},
};

} // namespace

TEST_CASE("every pg_error_kind has a distinct token, an errc and a retry "
          "class",
          "[postgres][errors]") {
  REQUIRE(expected.size() == pg_error_kind_count);
  std::set<std::string_view> tokens;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& e = expected[i];
    INFO(e.token);
    CHECK(static_cast<size_t>(e.kind) == i); // rows in declaration order
    CHECK(to_string(e.kind) == e.token);
    CHECK(tokens.insert(to_string(e.kind)).second);
    CHECK(to_errc(e.kind) == e.code);
    CHECK(is_conflict(e.kind) == e.conflict);
    CHECK(is_transient(e.kind) == e.transient);
    CHECK_FALSE((e.conflict && e.transient));
  }
  CHECK(to_string(static_cast<k>(200)) == "other");
}

TEST_CASE("a backend failure is never reported as not found",
          "[postgres][errors][invariant-4]") {
  // errc has no not-found code at all; this pins that no kind maps to a
  // code a caller could read as "the session does not exist".
  for (const auto& e : expected) {
    auto code = to_errc(e.kind);
    CHECK(code != errc::invalid_session_id);
    CHECK(code != errc::version_conflict);
  }
}

TEST_CASE("SQLSTATEs map to their kinds, by code and by class",
          "[postgres][errors]") {
  const std::vector<std::pair<const char*, k>> codes = {
    {"00000", k::none},
    {"40001", k::serialization_failure},
    {"40P01", k::deadlock},
    {"25006", k::read_only},
    {"53100", k::disk_full},
    {"53200", k::out_of_memory},
    {"53300", k::too_many_connections},
    {"28000", k::auth_failed},
    {"28P01", k::auth_failed},
    {"42501", k::insufficient_privilege},
    {"42P01", k::undefined_object},
    {"3F000", k::undefined_object},
    {"42703", k::undefined_object},
    {"42883", k::undefined_object},
    {"42704", k::undefined_object},
    {"26000", k::undefined_object},
    {"3D000", k::invalid_database},
    {"57014", k::statement_timeout},
    {"55P03", k::lock_timeout},
    {"57P01", k::admin_shutdown},
    {"57P02", k::admin_shutdown},
    {"57P03", k::admin_shutdown},
    {"57P04", k::admin_shutdown},
    // Whole classes.
    {"08000", k::connection_lost},
    {"08006", k::connection_lost},
    {"08P01", k::connection_lost},
    {"23505", k::constraint_violation},
    {"23514", k::constraint_violation},
    // Codes the store does not tell apart, and malformed ones.
    {"22012", k::other},
    {"40002", k::other},
    {"53400", k::other},
    {"XX000", k::other},
    {"", k::other},
    {"4000", k::other},
    {"400011", k::other},
    {"40o01", k::other},
  };
  for (const auto& [code, kind] : codes) {
    INFO(code);
    CHECK(classify_sqlstate(code) == kind);
  }
}

TEST_CASE("the SQLSTATE of a connect failure is read from the terse "
          "message, and only the code",
          "[postgres][errors]") {
  CHECK(sqlstate_of_message("connection to server at \"127.0.0.1\", port "
                            "5432 failed: FATAL:  28P01\n")
        == "28P01");
  CHECK(sqlstate_of_message("FATAL:  53300\n") == "53300");
  CHECK(sqlstate_of_message("ERROR:  42501") == "42501");
  // Several hosts tried: the last attempt decides.
  CHECK(sqlstate_of_message("connection to server at \"a\" failed: FATAL:  "
                            "57P03\nconnection to server at \"b\" failed: "
                            "FATAL:  3D000\n")
        == "3D000");
  // Client-side failures and default verbosity carry no code.
  CHECK(sqlstate_of_message("connection to server at \"127.0.0.1\", port 1 "
                            "failed: Connection refused\n")
          .empty());
  CHECK(sqlstate_of_message("FATAL:  password authentication failed for user")
          .empty());
  CHECK(sqlstate_of_message("FATAL:  ABCDEF").empty());
  CHECK(sqlstate_of_message("").empty());
}

TEST_CASE("a failure without a SQLSTATE is a lost connection unless the "
          "connection is fine",
          "[postgres][errors]") {
  CHECK(classify(nullptr, nullptr) == k::connection_lost);
  // A result made locally carries no SQLSTATE: on a connection that is not
  // OK (here: one that never connected) it means the connection broke.
  PGconn* conn = PQconnectStart("postgresql://127.0.0.1:1/x");
  REQUIRE(conn);
  PGresult* r = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
  CHECK(classify(r, conn) == k::connection_lost);
  PQclear(r);
  PQfinish(conn);
}

TEST_CASE("a refused connect is connect_failed", "[postgres][errors]") {
  // Port 1 on loopback: refused at once by the kernel, no server involved.
  PGconn* refused = PQconnectdb("postgresql://127.0.0.1:1/x?connect_timeout=2");
  REQUIRE(refused);
  CHECK(PQstatus(refused) == CONNECTION_BAD);
  CHECK(classify_connect(refused) == k::connect_failed);
  PQfinish(refused);
  CHECK(classify_connect(nullptr) == k::out_of_memory);
}

TEST_CASE("kinds an operator must act on come with a hint",
          "[postgres][errors]") {
  for (auto x : {k::read_only, k::disk_full, k::too_many_connections,
                 k::auth_failed, k::insufficient_privilege, k::undefined_object,
                 k::invalid_database, k::statement_timeout, k::connect_failed})
    CHECK_FALSE(hint(x).empty());
  CHECK(hint(k::none).empty());
}

} // namespace pg_error_test
