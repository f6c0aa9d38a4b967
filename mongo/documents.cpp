// documents.cpp -- builders and readers of the store's BSON (documents.hpp).
#include "mongo/documents.hpp"

namespace authstore {

namespace {

// The index that serves load() and the erases of one session.
constexpr const char* by_session_index = "by_session";

void append_utf8(bson_t* doc, const char* key, const std::string& value) {
  bson_append_utf8(doc, key, -1, value.data(), static_cast<int>(value.size()));
}

// {s: sid, f: field}: the key document's _id. Always in this order: an
// embedded _id matches only a document with the same field order.
void append_key_id(bson_t* doc, const char* key, const std::string& sid,
                   const std::string& field) {
  bson_t id;
  bson_append_document_begin(doc, key, -1, &id);
  append_utf8(&id, "s", sid);
  append_utf8(&id, "f", field);
  bson_append_document_end(doc, &id);
}

// key: {op: version}, e.g. v: {$lt: 5}.
void append_version_condition(bson_t* doc, const char* op, int64_t version) {
  bson_t cond;
  bson_append_document_begin(doc, "v", 1, &cond);
  bson_append_int64(&cond, op, -1, version);
  bson_append_document_end(doc, &cond);
}

bool find_int64(const bson_t* doc, const char* key, int64_t& out) {
  bson_iter_t it;
  if (!bson_iter_init_find(&it, doc, key)
      || !(BSON_ITER_HOLDS_INT64(&it) || BSON_ITER_HOLDS_INT32(&it)))
    return false;
  out = bson_iter_as_int64(&it);
  return true;
}

// The embedded document at `it` as a read-only bson_t.
bool embedded(const bson_iter_t* it, bson_t* out) {
  uint32_t len = 0;
  const uint8_t* data = nullptr;
  if (!BSON_ITER_HOLDS_DOCUMENT(it))
    return false;
  bson_iter_document(it, &len, &data);
  return bson_init_static(out, data, len);
}

bool find_utf8(bson_iter_t* it, const char* key, std::string& out) {
  if (!bson_iter_find(it, key) || !BSON_ITER_HOLDS_UTF8(it))
    return false;
  uint32_t len = 0;
  const char* str = bson_iter_utf8(it, &len);
  out.assign(str, len);
  return true;
}

} // namespace

// -- writes ------------------------------------------------------------------

guarded_op key_op(const std::string& sid, int64_t version,
                  const field_write& w) {
  guarded_op op;
  append_key_id(op.filter.get(), "_id", sid, w.field);
  append_version_condition(op.filter.get(), "$lt", version);
  bson_t set, unset;
  bson_append_document_begin(op.update.get(), "$set", 4, &set);
  bson_append_int64(&set, "v", 1, version);
  if (w.erase)
    bson_append_bool(&set, "del", 3, true);
  else
    append_utf8(&set, "val", w.value);
  bson_append_document_end(op.update.get(), &set);
  // A tombstone drops the value; a live value drops an older tombstone mark.
  bson_append_document_begin(op.update.get(), "$unset", 6, &unset);
  bson_append_utf8(&unset, w.erase ? "val" : "del", -1, "", 0);
  bson_append_document_end(op.update.get(), &unset);
  return op;
}

guarded_op session_op(const std::string& sid, int64_t version) {
  guarded_op op;
  append_utf8(op.filter.get(), "_id", sid);
  append_version_condition(op.filter.get(), "$lt", version);
  bson_t set;
  bson_append_document_begin(op.update.get(), "$set", 4, &set);
  bson_append_int64(&set, "v", 1, version);
  bson_append_document_end(op.update.get(), &set);
  return op;
}

// $max needs no guard: it never lowers a stored v or dv, so a repeated or
// late erase changes nothing newer, and any later watermark (v > D) keeps
// dv, which is what hides the key docs at or below D.
guarded_op erase_mark_op(const std::string& sid, int64_t erase_version) {
  guarded_op op;
  append_utf8(op.filter.get(), "_id", sid);
  bson_t max;
  bson_append_document_begin(op.update.get(), "$max", 4, &max);
  bson_append_int64(&max, "v", 1, erase_version);
  bson_append_int64(&max, "dv", 2, erase_version);
  bson_append_document_end(op.update.get(), &max);
  return op;
}

bson_ptr session_filter(const std::string& sid) {
  bson_ptr filter{bson_new()};
  append_utf8(filter.get(), "_id", sid);
  return filter;
}

bson_ptr all_keys_filter(const std::string& sid) {
  bson_ptr filter{bson_new()};
  append_utf8(filter.get(), "_id.s", sid);
  return filter;
}

bson_ptr erased_keys_filter(const std::string& sid, int64_t erase_version) {
  bson_ptr filter = all_keys_filter(sid);
  append_version_condition(filter.get(), "$lte", erase_version);
  return filter;
}

bson_ptr create_indexes_command() {
  return bson_ptr{BCON_NEW("createIndexes", BCON_UTF8("keys"), "indexes", "[",
                           "{", "key", "{", "_id.s", BCON_INT32(1), "}", "name",
                           BCON_UTF8(by_session_index), "}", "]")};
}

bson_ptr ping_command() {
  return bson_ptr{BCON_NEW("ping", BCON_INT32(1))};
}

// -- reads -------------------------------------------------------------------

bson_ptr session_find_opts() {
  return bson_ptr{BCON_NEW("limit", BCON_INT64(1))};
}

bson_ptr live_keys_filter(const std::string& sid, int64_t erased_at) {
  bson_ptr filter = all_keys_filter(sid);
  bson_t not_deleted;
  bson_append_document_begin(filter.get(), "del", 3, &not_deleted);
  bson_append_bool(&not_deleted, "$ne", 3, true);
  bson_append_document_end(filter.get(), &not_deleted);
  // Key docs at or below the erase mark predate the delete (or are a late
  // persist's orphans): never read back. Without a mark the filter stays as
  // it always was.
  if (erased_at > 0)
    append_version_condition(filter.get(), "$gt", erased_at);
  return filter;
}

bson_ptr live_keys_find_opts() {
  // v comes along with val: the snapshot's version must cover every key doc
  // returned (see load() in store.hpp).
  return bson_ptr{
    BCON_NEW("projection", "{", "val", BCON_INT32(1), "v", BCON_INT32(1), "}")};
}

mongo_status read_session_doc(const bson_t* doc, session_doc_fields& out) {
  out = session_doc_fields{};
  if (!find_int64(doc, "v", out.version) || out.version < 0)
    return malformed("session document without a valid v");
  if (bson_has_field(doc, "dv")
      && (!find_int64(doc, "dv", out.erased_at) || out.erased_at < 0))
    return malformed("session document with an invalid dv");
  return {};
}

mongo_status read_key_doc(const bson_t* doc, field_write& w, int64_t& version) {
  bson_iter_t it, id;
  if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&it)
      || !bson_iter_recurse(&it, &id) || !find_utf8(&id, "f", w.field))
    return malformed("key document without _id.f");
  if (!bson_iter_init(&it, doc) || !find_utf8(&it, "val", w.value))
    return malformed("live key document without val");
  if (!find_int64(doc, "v", version) || version < 0)
    return malformed("live key document without a valid v");
  return {};
}

bulk_reply_errors read_bulk_errors(const bson_t& reply) {
  bulk_reply_errors out;
  bson_iter_t it, item;
  if (bson_iter_init_find(&it, &reply, "writeConcernErrors")
      && bson_iter_recurse(&it, &item) && bson_iter_next(&item)) {
    out.has_write_concern_error = true;
    bson_t wce;
    out.write_concern_code_present
      = embedded(&item, &wce)
        && find_int64(&wce, "code", out.write_concern_code);
  }
  if (!bson_iter_init_find(&it, &reply, "writeErrors")
      || !bson_iter_recurse(&it, &item))
    return out;
  out.has_write_errors = true;
  while (bson_iter_next(&item)) {
    bson_t we;
    bulk_reply_errors::item e;
    e.complete = embedded(&item, &we) && find_int64(&we, "code", e.code)
                 && find_int64(&we, "index", e.index);
    out.write_errors.push_back(e);
  }
  return out;
}

} // namespace authstore
