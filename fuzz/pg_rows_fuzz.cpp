// pg_rows_fuzz.cpp -- arbitrary rows as the result of a load, decoded by
// read_load_rows (postgres/rows.hpp) and the field readers of
// postgres/wire.hpp.
//
// The input is consumed as rows (FuzzedDataProvider): per row, per column
// of the load's five (v, dv, field, fv, val), a NULL flag or a field of up
// to 16 bytes, put into a binary-format result with libpq's own
// PQmakeEmptyPGresult / PQsetResultAttrs / PQsetvalue -- the structure a
// server's answer becomes, without a server.
// Properties: a decoded snapshot has its fields sorted, its version at
// least every field's, and found set when it has fields; every int8
// parameter we send reads back as the same number.
// Not reached: libpq's protocol parsing of the server's bytes (libpq's own
// code), connections, pipelines.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <fuzzer/FuzzedDataProvider.h>
#include <libpq-fe.h>

#include "fuzz/fuzz_check.hpp"
#include "postgres/rows.hpp"
#include "postgres/wire.hpp"

using namespace authstore;

namespace {

using result_ptr = std::unique_ptr<PGresult, decltype(&PQclear)>;

/// An empty binary-format result with the load's five columns.
result_ptr load_result() {
  result_ptr r{PQmakeEmptyPGresult(nullptr, PGRES_TUPLES_OK), &PQclear};
  static char names[5][4] = {"v", "dv", "f", "fv", "val"};
  const uint32_t types[5]
    = {pg_oid::int8, pg_oid::int8, pg_oid::text, pg_oid::int8, pg_oid::bytea};
  PGresAttDesc cols[5];
  for (int i = 0; i < 5; ++i)
    cols[i] = PGresAttDesc{names[i], 0, 0, 1, types[i], -1, -1};
  FUZZ_CHECK(PQsetResultAttrs(r.get(), 5, cols));
  return r;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in{data, size};
  auto r = load_result();
  int rows = in.ConsumeIntegralInRange<int>(0, 8);
  for (int row = 0; row < rows; ++row)
    for (int col = 0; col < 5; ++col) {
      if (in.ConsumeBool()) {
        FUZZ_CHECK(PQsetvalue(r.get(), row, col, nullptr, -1));
        continue;
      }
      auto bytes = in.ConsumeBytesAsString(in.ConsumeIntegralInRange(0, 16));
      FUZZ_CHECK(PQsetvalue(r.get(), row, col, bytes.data(),
                            static_cast<int>(bytes.size())));
    }

  session_snapshot snap;
  if (read_load_rows(r.get(), snap)) {
    FUZZ_CHECK(std::is_sorted(snap.fields.begin(), snap.fields.end(),
                              [](const field_write& a, const field_write& b) {
                                return a.field < b.field;
                              }));
    FUZZ_CHECK(snap.fields.empty() || snap.found);
    for (int row = 0; row < PQntuples(r.get()); ++row) {
      int64_t fv = 0;
      if (!is_null(r.get(), row, 2) && read_int8(r.get(), row, 3, fv))
        FUZZ_CHECK(snap.version >= static_cast<uint64_t>(fv));
    }
  }
  // Every reader on every field, and past the edges of the result.
  for (int row = -1; row <= PQntuples(r.get()); ++row)
    for (int col = -1; col <= 5; ++col) {
      int64_t i8 = 0;
      int32_t i4 = 0;
      bool b = false;
      std::string s;
      bool null = is_null(r.get(), row, col);
      FUZZ_CHECK(!read_bytes(r.get(), row, col, s) || !null);
      FUZZ_CHECK(!read_int8(r.get(), row, col, i8) || !null);
      FUZZ_CHECK(!read_int4(r.get(), row, col, i4) || !null);
      FUZZ_CHECK(!read_bool(r.get(), row, col, b) || !null);
    }

  // int8_param round trip through a result field.
  auto x = in.ConsumeIntegral<int64_t>();
  auto p = int8_param(x);
  auto one = load_result();
  FUZZ_CHECK(PQsetvalue(one.get(), 0, 0, p.bytes.data(),
                        static_cast<int>(p.bytes.size())));
  int64_t back = 0;
  FUZZ_CHECK(read_int8(one.get(), 0, 0, back) && back == x);
  return 0;
}
