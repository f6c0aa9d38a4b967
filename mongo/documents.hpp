// documents.hpp -- the BSON the store sends and the BSON it reads back.
//
// Why a file of its own: libmongoc's C API makes building a filter or an
// update, and reading a reply, verbose; kept beside the store it buried the
// order of operations. Here every document of the model (store.hpp) is
// spelled once, and every reader turns a stored document into our fields or
// says that it is malformed. No I/O: nothing here talks to a server, so the
// wire tests (tests/mongowire/wire_docs.hpp) can pin each shape exactly.
//
// Guarantees:
// - Session ids and field names are only ever BSON *values* (inside _id or
//   compared with $eq), never keys or field paths: ids with dots, `$` or
//   slashes are stored as they are.
// - Key order inside an embedded _id is always {s, f}: an embedded document
//   matches only one with the same field order.
// - A reader never guesses: a document without the fields the model
//   promises is `malformed` (a failure, never "not found", invariant 4).
#pragma once

#include <cstdint>
#include <string>

#include <bson/bson.h>

#include "messages/model.hpp"
#include "mongo/error.hpp"

namespace authstore {

/// Owns a heap bson_t (std::unique_ptr<bson_t> trips -Wignored-attributes on
/// bson_t's alignment attribute).
class bson_ptr {
public:
  /// Takes ownership of `x` (from bson_new, BCON_NEW, ...).
  explicit bson_ptr(bson_t* x) : ptr_(x) {}
  bson_ptr(bson_ptr&& other) noexcept : ptr_(other.ptr_) {
    other.ptr_ = nullptr;
  }
  bson_ptr& operator=(bson_ptr&&) = delete;
  ~bson_ptr() {
    if (ptr_)
      bson_destroy(ptr_);
  }
  /// The document (still owned).
  bson_t* get() const { return ptr_; }
  const bson_t& operator*() const { return *ptr_; }

private:
  bson_t* ptr_;
};

// -- writes ------------------------------------------------------------------

/// One upsert item of a bulk: the filter it matches and the update.
struct guarded_op {
  bson_ptr filter{bson_new()};
  bson_ptr update{bson_new()};
};

/// The key doc of `w` at `version`: on {_id: {s, f}, v: {$lt: version}},
/// $set v and val (or del: true for a tombstone) and $unset the other.
guarded_op key_op(const std::string& sid, int64_t version,
                  const field_write& w);

/// The watermark: on {_id: sid, v: {$lt: version}}, $set v.
guarded_op session_op(const std::string& sid, int64_t version);

/// The erase mark of a versioned erase at D: {$max: {v: D, dv: D}} on
/// {_id: sid}, unguarded ($max never lowers a stored v or dv).
guarded_op erase_mark_op(const std::string& sid, int64_t erase_version);

/// {_id: sid}: the session doc.
bson_ptr session_filter(const std::string& sid);

/// {"_id.s": sid}: every key doc and tombstone of the session.
bson_ptr all_keys_filter(const std::string& sid);

/// {"_id.s": sid, v: {$lte: D}}: the key docs a versioned erase at D
/// removes.
bson_ptr erased_keys_filter(const std::string& sid, int64_t erase_version);

/// The createIndexes command for the by_session index ({"_id.s": 1}).
bson_ptr create_indexes_command();

/// {ping: 1}.
bson_ptr ping_command();

// -- reads -------------------------------------------------------------------

/// The find options of the watermark read ({limit: 1}).
bson_ptr session_find_opts();

/// {"_id.s": sid, del: {$ne: true}}, and with an erase mark dv > 0 also
/// v: {$gt: dv} (last): the live key docs a load returns.
bson_ptr live_keys_filter(const std::string& sid, int64_t erased_at);

/// The find options of the key read: the projection {val: 1, v: 1}.
bson_ptr live_keys_find_opts();

/// A session doc as read: its watermark v and erase mark dv (0 without).
struct session_doc_fields {
  int64_t version = 0;
  int64_t erased_at = 0;
};

/// Reads a session doc; malformed without a non-negative integer v, or with
/// a dv that is not one.
mongo_status read_session_doc(const bson_t* doc, session_doc_fields& out);

/// Reads a live key doc into `w` (field from _id.f, value from val) and its
/// version; malformed without _id.f, val or a non-negative integer v.
mongo_status read_key_doc(const bson_t* doc, field_write& w, int64_t& version);

/// The error entries of a bulk write reply (judged by judge_bulk).
bulk_reply_errors read_bulk_errors(const bson_t& reply);

} // namespace authstore
