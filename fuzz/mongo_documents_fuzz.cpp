// mongo_documents_fuzz.cpp -- arbitrary bytes as a document a MongoDB
// server returned (bson_init_static, as a cursor hands it over), read by
// every reader of mongo/documents.hpp and judged by judge_bulk
// (mongo/error.hpp).
//
// Properties: a key document that reads back as (field, value, v) is read
// the same from the document our own writer would store for it (the reader
// and the writer agree on the shape); a session document gives v >= 0 and
// dv >= 0; judge_bulk never reports a duplicate outside 0..items-1.
// Not reached: libmongoc's wire protocol, cursors and server selection
// (tests/mongowire covers them against scripted servers).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <bson/bson.h>
#include <mongoc/mongoc.h>

#include "fuzz/fuzz_check.hpp"
#include "mongo/documents.hpp"
#include "mongo/error.hpp"

using namespace authstore;

namespace {

/// The key document our writer stores for `w` at `version` ({_id: {s, f},
/// v, val}), as the upsert of key_op leaves it.
bson_ptr stored_key_doc(const field_write& w, int64_t version) {
  bson_ptr doc{bson_new()};
  bson_t id;
  bson_append_document_begin(doc.get(), "_id", 3, &id);
  bson_append_utf8(&id, "s", 1, "sid", 3);
  bson_append_utf8(&id, "f", 1, w.field.data(),
                   static_cast<int>(w.field.size()));
  bson_append_document_end(doc.get(), &id);
  bson_append_int64(doc.get(), "v", 1, version);
  bson_append_utf8(doc.get(), "val", 3, w.value.data(),
                   static_cast<int>(w.value.size()));
  return doc;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bson_t doc;
  if (!bson_init_static(&doc, data, size))
    return 0;

  session_doc_fields session;
  if (read_session_doc(&doc, session).ok())
    FUZZ_CHECK(session.version >= 0 && session.erased_at >= 0);

  field_write w;
  int64_t version = -1;
  if (read_key_doc(&doc, w, version).ok()) {
    FUZZ_CHECK(version >= 0);
    auto again = stored_key_doc(w, version);
    field_write w2;
    int64_t version2 = -1;
    FUZZ_CHECK(read_key_doc(again.get(), w2, version2).ok());
    FUZZ_CHECK(w2 == w && version2 == version);
  }

  auto errors = read_bulk_errors(doc);
  // What libmongoc (error API 2) reports for a bulk with duplicate keys:
  // the judge then reads the reply's entries.
  bson_error_t error{};
  bson_set_error(&error, MONGOC_ERROR_SERVER, 11000, "fuzz");
  for (size_t items : {size_t{0}, size_t{1}, size_t{16}}) {
    std::vector<size_t> duplicates;
    auto judged = judge_bulk(error, errors, items, duplicates);
    for (auto i : duplicates)
      FUZZ_CHECK(i < items);
    if (!judged.ok())
      FUZZ_CHECK(duplicates.empty());
  }
  return 0;
}
