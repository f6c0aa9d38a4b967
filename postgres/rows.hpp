// rows.hpp -- the rows of a load (statements as_load and as_load_fields in
// postgres/store.cpp), decoded into a session snapshot.
//
// Why a file of its own: this is where bytes a PostgreSQL server sent
// become a session, so it is fuzzed (fuzz/pg_rows_fuzz.cpp builds results
// of arbitrary rows with libpq's PQmakeEmptyPGresult/PQsetvalue) and it
// needs no connection to be called.
//
// The rows (binary format; coupled with the SQL of as_load and
// as_load_fields, which say so too):
//   col 0 v int8, col 1 dv int8, col 2 field text, col 3 fv int8,
//   col 4 val bytea
// At most one session row (field NULL; v and dv set, both >= 0), then any
// number of field rows (field, fv >= 0 and val set). Anything else is
// malformed: the caller's protocol error, never "not found" (invariant 4).
#pragma once

#include "messages/model.hpp"

struct pg_result;

namespace authstore {

/// Decodes `rows` into `out` (fields sorted by name; version the highest of
/// the session row's v and the fields' fv; found when the session row's v
/// is above its erase mark dv or any field is live). False when the rows
/// are malformed (see the file comment); `out` is then unspecified.
bool read_load_rows(const pg_result* rows, session_snapshot& out);

} // namespace authstore
