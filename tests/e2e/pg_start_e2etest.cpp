// pg_start_e2etest.cpp -- the real `authstore` binary meeting a PostgreSQL
// cold store it cannot use, and `authstore migrate`, against a real
// PostgreSQL 15 (the shared private server of tests/postgres/pg_server.hpp).
//
// `serve` must refuse to start -- exit 2, a message naming what to fix,
// before it listens (so before any session is served) -- for an unknown
// scheme, cold.uri and mongodb.uri differing, an unreachable server, a role
// without privileges, a wrong password, a schema newer than the build, and
// a missing schema when cold.migrate is never. `migrate` answers 0 (ready), 1
// (the server refused or could not be reached) or 2 (usage/configuration), and
// `config --check` never prints a cold store's password.
#include <string>

#include <catch2/catch.hpp>

#include "runtime/sim/private_redis.hpp"
#include "tests/e2e/cli_run.hpp"
#include "tests/postgres/pg_server.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_start_e2etest {

using namespace authstore;
using namespace authstore::test;

namespace {

pg_server& shared() {
  std::string why;
  auto* s = shared_pg_server(&why);
  if (!s)
    FAIL("no PostgreSQL server: " << why);
  return *s;
}

void admin(pg_server& server, const std::string& sql) {
  INFO(sql);
  if (!server.exec(sql))
    FAIL(server.last_error());
}

/// The environment of a serve that would be allowed to start: a secret and
/// a Redis nobody listens on (it fails before it would connect to Redis).
std::string serve_env(const std::string& extra = "") {
  return "AUTHSTORE_SECRET=0123456789abcdef0123456789abcdef "
         "AUTHSTORE_REDIS_URL=redis://127.0.0.1:1/0 "
         + extra;
}

/// `serve` refused to start: exit 2, nothing served, `needle` in the
/// message.
void require_refused(const run_result& r, const std::string& needle) {
  INFO(r.out);
  CHECK(r.code == 2);
  CHECK(r.out.find("listening") == std::string::npos);
  CHECK(r.out.find(needle) != std::string::npos);
}

} // namespace

TEST_CASE("serve refuses a cold store it cannot use with exit 2 before it "
          "serves (unknown scheme, two URIs, unreachable, privileges, "
          "newer schema, missing schema)",
          "[e2e][postgres][cli]") {
  auto& pg = shared();
  auto schema = fresh_schema();
  auto uri = pg.uri();
  auto flags = " --cold " + uri + " --postgresql.schema " + schema;

  SECTION("an unknown scheme names cold.uri and the schemes it knows") {
    require_refused(run("serve --cold redis://127.0.0.1:1/0", "", serve_env()),
                    "unknown scheme");
    auto m = run("migrate --cold mysql://h/db");
    INFO(m.out);
    CHECK(m.code == 2);
    CHECK(m.out.find("postgresql://") != std::string::npos);
  }
  SECTION("cold.uri and mongodb.uri set differently name both") {
    auto r = run("serve --cold " + uri + " --mongodb mongodb://127.0.0.1:1/x",
                 "", serve_env());
    require_refused(r, "cold.uri");
    CHECK(r.out.find("mongodb.uri") != std::string::npos);
  }
  SECTION("an unreachable server") {
    auto port = free_loopback_port();
    REQUIRE(port);
    auto dead = "postgresql://postgres@127.0.0.1:" + std::to_string(*port)
                + "/postgres";
    require_refused(run("serve --cold " + dead, "", serve_env()),
                    "connect_failed");
    auto m = run("migrate --cold " + dead);
    INFO(m.out);
    CHECK(m.code == 1);
  }
  SECTION("a schema of a newer version: refused by serve and by migrate, "
          "left as it is") {
    REQUIRE(run("migrate" + flags).code == 0);
    admin(pg, "UPDATE \"" + schema + "\".schema_version SET version = 99");
    auto r = run("serve" + flags, "", serve_env());
    require_refused(r, "version 99");
    auto m = run("migrate" + flags);
    INFO(m.out);
    CHECK(m.code == 1);
    CHECK(m.out.find("version 99") != std::string::npos);
    std::string version;
    REQUIRE(pg.exec("SELECT version FROM \"" + schema + "\".schema_version",
                    &version));
    CHECK(version == "99");
  }
  SECTION("a missing schema with cold.migrate never says how to create it; "
          "migrate creates it, and then --check is content") {
    auto r
      = run("serve" + flags, "", serve_env("AUTHSTORE_COLD_MIGRATE=never"));
    require_refused(r, "authstore migrate");
    auto check = run("migrate --check" + flags);
    INFO(check.out);
    CHECK(check.code == 1);
    auto m = run("migrate" + flags);
    INFO(m.out);
    CHECK(m.code == 0);
    CHECK(m.out.find("authstore migrate: done") != std::string::npos);
    CHECK(run("migrate --check" + flags).code == 0);
    CHECK(run("migrate" + flags).code == 0); // again: nothing to do
  }
  SECTION("a role without privileges on the schema") {
    REQUIRE(run("migrate" + flags).code == 0);
    pg.exec("DROP OWNED BY as_e2e_norights");
    pg.exec("DROP ROLE IF EXISTS as_e2e_norights");
    admin(pg, "CREATE ROLE as_e2e_norights LOGIN PASSWORD 'pw'");
    auto role = pg.uri("as_e2e_norights", "pw");
    auto r = run("serve --cold " + role + " --postgresql.schema " + schema, "",
                 serve_env("AUTHSTORE_COLD_MIGRATE=never"));
    require_refused(r, "insufficient_privilege");
    CHECK(r.out.find(":pw@") == std::string::npos); // no password printed
    auto m = run("migrate --check --cold " + role + " --postgresql.schema "
                 + schema);
    INFO(m.out);
    CHECK(m.code == 1);
    // A wrong password: its own kind, and the password is not printed.
    auto wrong = pg.uri("as_e2e_norights", "wrongpw");
    auto w = run("serve --cold " + wrong + " --postgresql.schema " + schema, "",
                 serve_env("AUTHSTORE_COLD_MIGRATE=never"));
    require_refused(w, "auth_failed");
    CHECK(w.out.find("wrongpw") == std::string::npos);
    pg.exec("DROP OWNED BY as_e2e_norights");
    pg.exec("DROP ROLE as_e2e_norights");
  }
  pg.exec("DROP SCHEMA IF EXISTS \"" + schema + "\" CASCADE");
}

TEST_CASE("migrate without a cold store is a usage error, and config --check "
          "redacts a PostgreSQL password in user info and query",
          "[e2e][postgres][cli]") {
  auto none = run("migrate");
  INFO(none.out);
  CHECK(none.code == 2);
  CHECK(none.out.find("--cold") != std::string::npos);
  auto help = run("migrate --help");
  CHECK(help.code == 0);
  CHECK(help.out.find("Examples:") != std::string::npos);

  auto check = run("config --check --cold "
                   "'postgresql://as:topsecret@db:5432/as?sslmode=require'");
  INFO(check.out);
  CHECK(check.code == 0);
  CHECK(check.out.find("topsecret") == std::string::npos);
  CHECK(check.out.find("cold.uri = postgresql://as:***@db:5432/as")
        != std::string::npos);
  auto query
    = run("config --check --cold "
          "'postgres://db/as?user=as&password=topsecret&sslmode=require'");
  INFO(query.out);
  CHECK(query.code == 0);
  CHECK(query.out.find("topsecret") == std::string::npos);
  CHECK(query.out.find("password=***") != std::string::npos);
}

} // namespace pg_start_e2etest
