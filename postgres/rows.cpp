// rows.cpp -- see postgres/rows.hpp.
#include "postgres/rows.hpp"

#include <algorithm>

#include <libpq-fe.h>

#include "postgres/wire.hpp"

namespace authstore {

bool read_load_rows(const pg_result* rows, session_snapshot& out) {
  out = session_snapshot{};
  bool session_row = false;
  int64_t v = 0, dv = 0;
  for (int i = 0, n = PQntuples(rows); i < n; ++i) {
    if (is_null(rows, i, 2)) {
      if (session_row || !read_int8(rows, i, 0, v) || !read_int8(rows, i, 1, dv)
          || v < 0 || dv < 0)
        return false;
      session_row = true;
      continue;
    }
    field_write w;
    int64_t fv = 0;
    if (!read_bytes(rows, i, 2, w.field) || !read_int8(rows, i, 3, fv) || fv < 0
        || !read_bytes(rows, i, 4, w.value))
      return false;
    out.version = std::max(out.version, static_cast<uint64_t>(fv));
    out.fields.push_back(std::move(w));
  }
  if (session_row)
    out.version = std::max(out.version, static_cast<uint64_t>(v));
  // A session row whose v is its delete mark is the trace of a delete.
  out.found = (session_row && v > dv) || !out.fields.empty();
  std::sort(out.fields.begin(), out.fields.end(),
            [](const field_write& a, const field_write& b) {
              return a.field < b.field;
            });
  return true;
}

} // namespace authstore
