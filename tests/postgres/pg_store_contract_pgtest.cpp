// pg_store_contract_pgtest.cpp -- the cold-store contract suite
// (tests/contract/cold_store_contract.hpp) against pg_store on a real
// PostgreSQL 15 (a private server this process starts: pg_server.hpp),
// once with each transaction pipelined (one round trip, the default) and
// once with one round trip per statement: both must mean the same.
//
// Each case runs on a schema of its own (created by pg_store::prepare, i.e.
// by the real migration, and dropped afterwards) on one shared server.
#include "postgres/store.hpp"

#include <catch2/catch.hpp>

#include "tests/contract/cold_store_contract.hpp"
#include "tests/postgres/pg_fixture.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_store_contract_pgtest {

namespace {

using authstore::test::pg_fixture;

struct pg_serial_fixture : pg_fixture {
  pg_serial_fixture() : pg_fixture(nullptr, false) {}
};

} // namespace

AUTHSTORE_COLD_STORE_CONTRACT(pg_fixture, "postgres", "[postgres]")
AUTHSTORE_COLD_STORE_CONTRACT(pg_serial_fixture, "postgres, no pipeline",
                              "[postgres][no-pipeline]")

} // namespace pg_store_contract_pgtest
