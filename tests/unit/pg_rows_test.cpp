// Tests of postgres/rows.hpp: the rows of a load, built with libpq's own
// result constructors (no server), decoded into a snapshot.
#include "postgres/rows.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <libpq-fe.h>

#include "postgres/wire.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace pg_rows_test {

using namespace authstore;

namespace {

using cell = std::optional<std::string>;
using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

std::string i8(int64_t x) {
  return int8_param(x).bytes;
}

/// A binary result with the load's five columns and `rows`.
result_ptr rows_of(const std::vector<std::vector<cell>>& rows) {
  result_ptr r{PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK), &PQclear};
  static char names[5][4] = {"v", "dv", "f", "fv", "val"};
  PGresAttDesc cols[5];
  for (int i = 0; i < 5; ++i)
    cols[i] = PGresAttDesc{names[i], 0, 0, 1, pg_oid::int8, -1, -1};
  REQUIRE(PQsetResultAttrs(r.get(), 5, cols));
  for (int row = 0; row < static_cast<int>(rows.size()); ++row)
    for (int col = 0; col < 5; ++col) {
      const auto& c = rows[static_cast<size_t>(row)][static_cast<size_t>(col)];
      REQUIRE(PQsetvalue(r.get(), row, col,
                         c ? const_cast<char*>(c->data()) : nullptr,
                         c ? static_cast<int>(c->size()) : -1));
    }
  return r;
}

} // namespace

TEST_CASE("a load's rows become a snapshot: fields sorted, the highest "
          "version",
          "[pg-rows]") {
  auto r = rows_of({{i8(5), i8(0), {}, {}, {}},
                    {{}, {}, "k:pre-key/1", i8(7), "{\"a\":1}"},
                    {{}, {}, "c:me", i8(3), "\"x\""}});
  session_snapshot s;
  REQUIRE(read_load_rows(r.get(), s));
  CHECK(s.found);
  CHECK(s.version == 7);
  REQUIRE(s.fields.size() == 2);
  CHECK(s.fields[0] == field_write{"c:me", false, "\"x\""});
  CHECK(s.fields[1] == field_write{"k:pre-key/1", false, "{\"a\":1}"});
}

TEST_CASE("a session row at its erase mark alone is a trace, not a session",
          "[pg-rows][invariant-4]") {
  session_snapshot s;
  REQUIRE(read_load_rows(rows_of({{i8(9), i8(9), {}, {}, {}}}).get(), s));
  CHECK_FALSE(s.found);
  CHECK(s.version == 9);
  REQUIRE(read_load_rows(rows_of({}).get(), s));
  CHECK_FALSE(s.found);
  CHECK(s.version == 0);
}

TEST_CASE("malformed rows are refused, never read as not found",
          "[pg-rows][invariant-4]") {
  session_snapshot s;
  std::vector<std::vector<std::vector<cell>>> bad = {
    {{i8(1), i8(0), {}, {}, {}}, {i8(2), i8(0), {}, {}, {}}}, // two sessions
    {{i8(-1), i8(0), {}, {}, {}}},                            // negative v
    {{std::string(4, '\0'), i8(0), {}, {}, {}}},              // v not int8
    {{i8(1), {}, {}, {}, {}}},                                // dv NULL
    {{{}, {}, "c:me", i8(1), {}}},                            // val NULL
    {{{}, {}, "c:me", i8(-2), "1"}},                          // negative fv
    {{{}, {}, "c:me", {}, "1"}},                              // fv NULL
  };
  for (const auto& rows : bad)
    CHECK_FALSE(read_load_rows(rows_of(rows).get(), s));
}

} // namespace pg_rows_test
