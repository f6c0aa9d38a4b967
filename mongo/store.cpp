// store.cpp -- libmongoc behind mongo_store (model and guarantees are
// in the header).
//
// Design: every public call is a short sequence of steps, and each step is
// one libmongoc call (one round trip) run under retry(), which repeats it on
// a transient kind with exponential backoff. Every step is idempotent (a
// guarded upsert, a read, a delete), so repeating one whose reply was lost is
// safe. A step yields a `status` (kind, libmongoc domain and code), never the
// error's message text: server messages quote the duplicate key, i.e. a
// session id and a field name.
//
// The client is a single-threaded mongoc_client_t, not a pool: the store has
// exactly one owner thread, and a single client checks the server on demand
// in that thread instead of in a background monitor. One consequence: after
// a network or not-primary error, libmongoc re-checks the server no sooner
// than minHeartbeatFrequencyMS (500 ms) later, so each such retry costs about
// half a second whatever retry_backoff says. The error API is
// version 2, so errors from the server arrive in MONGOC_ERROR_SERVER (or
// MONGOC_ERROR_WRITE_CONCERN) with the server's own code and never collide
// with libmongoc's client-side codes.
//
// Size: about 850 lines, above the ~400-line aim. libmongoc's C API makes
// document building and reply parsing verbose, and the natural split (the
// error classifier, the document builders, the store) needs new entries in
// authstore_logic's source list in CMakeLists.txt, which this file's owner
// does not edit. Sections are marked below so the split is mechanical.
#include "mongo/store.hpp"

#include <algorithm>
#include <iterator>
#include <map>
#include <numeric>
#include <thread>

#include <mongoc/mongoc.h>

namespace authstore {

namespace {

// Applied when the URI sets no socketTimeoutMS: libmongoc's default (5 min)
// would park the worker thread that long on a hung server. 10 s outlasts a
// majority write on a healthy replica set by far.
constexpr int32_t default_socket_timeout_ms = 10000;

// The index that serves load() and erase() of one session.
constexpr const char* by_session_index = "by_session";

// -- small RAII wrappers -----------------------------------------------------

// Owns a heap bson_t (std::unique_ptr<bson_t> trips -Wignored-attributes on
// bson_t's alignment attribute).
class bson_ptr {
public:
  explicit bson_ptr(bson_t* x) : ptr_(x) {}
  bson_ptr(bson_ptr&& other) noexcept : ptr_(other.ptr_) {
    other.ptr_ = nullptr;
  }
  bson_ptr& operator=(bson_ptr&&) = delete;
  ~bson_ptr() {
    if (ptr_)
      bson_destroy(ptr_);
  }
  bson_t* get() const { return ptr_; }
  const bson_t& operator*() const { return *ptr_; }

private:
  bson_t* ptr_;
};

struct cursor_deleter {
  void operator()(mongoc_cursor_t* x) const { mongoc_cursor_destroy(x); }
};
using cursor_ptr = std::unique_ptr<mongoc_cursor_t, cursor_deleter>;

struct bulk_deleter {
  void operator()(mongoc_bulk_operation_t* x) const {
    mongoc_bulk_operation_destroy(x);
  }
};
using bulk_ptr = std::unique_ptr<mongoc_bulk_operation_t, bulk_deleter>;

// A reply out-parameter: libmongoc always initializes it, we always free it.
struct reply_doc {
  bson_t doc = BSON_INITIALIZER;
  ~reply_doc() { bson_destroy(&doc); }
};

// -- outcome of one step -----------------------------------------------------

struct status {
  mongo_error_kind kind = mongo_error_kind::none;
  uint32_t domain = 0;
  uint32_t code = 0;
  // Our own finding (e.g. a malformed document) instead of a libmongoc one.
  const char* note = nullptr;
  int attempts = 1;

  bool ok() const { return kind == mongo_error_kind::none; }
};

status status_of(const bson_error_t& e) {
  return {classify(e), e.domain, e.code};
}

status malformed(const char* what) {
  return {mongo_error_kind::other, 0, 0, what};
}

mongo_error_kind classify_server_code(uint32_t code) {
  switch (code) {
    case 11000: // DuplicateKey
    case 11001: // legacy DuplicateKey on update
    case 12582: // legacy DuplicateKey on insert
      return mongo_error_kind::duplicate_key;
    case 91:    // ShutdownInProgress
    case 189:   // PrimarySteppedDown
    case 10058: // LegacyNotPrimary
    case 10107: // NotWritablePrimary
    case 11600: // InterruptedAtShutdown
    case 11602: // InterruptedDueToReplStateChange
    case 13435: // NotPrimaryNoSecondaryOk
    case 13436: // NotPrimaryOrSecondary
      return mongo_error_kind::not_primary;
    case 50:  // MaxTimeMSExpired
    case 64:  // WriteConcernFailed (wtimeout)
    case 89:  // NetworkTimeout (server to server)
    case 262: // ExceededTimeLimit
      return mongo_error_kind::timeout;
    case 6:    // HostUnreachable
    case 7:    // HostNotFound
    case 9001: // SocketException
      return mongo_error_kind::network;
    default:
      return mongo_error_kind::none;
  }
}

// -- building documents ------------------------------------------------------

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

void append_older_than(bson_t* doc, int64_t version) {
  bson_t guard;
  bson_append_document_begin(doc, "v", 1, &guard);
  bson_append_int64(&guard, "$lt", 3, version);
  bson_append_document_end(doc, &guard);
}

// One upsert item. key_op and session_op guard it by version (it matches
// only a stored doc older than the write); erase_mark_op needs no guard.
struct guarded_op {
  bson_ptr filter{bson_new()};
  bson_ptr update{bson_new()};
};

guarded_op key_op(const std::string& sid, int64_t version,
                  const field_write& w) {
  guarded_op op;
  append_key_id(op.filter.get(), "_id", sid, w.field);
  append_older_than(op.filter.get(), version);
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
  append_older_than(op.filter.get(), version);
  bson_t set;
  bson_append_document_begin(op.update.get(), "$set", 4, &set);
  bson_append_int64(&set, "v", 1, version);
  bson_append_document_end(op.update.get(), &set);
  return op;
}

// The erase mark of a versioned erase at D: {$max: {v: D, dv: D}}, upserted
// on {_id: sid}. $max needs no guard: it never lowers a stored v or dv, so a
// repeated or late erase changes nothing newer, and any later watermark
// (v > D) keeps dv, which is what hides the key docs at or below D.
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

// {"_id.s": sid, v: {$lte: D}}: every key doc and tombstone a versioned
// erase at D removes.
bson_ptr erased_keys_filter(const std::string& sid, int64_t erase_version) {
  bson_ptr filter{bson_new()};
  append_utf8(filter.get(), "_id.s", sid);
  bson_t guard;
  bson_append_document_begin(filter.get(), "v", 1, &guard);
  bson_append_int64(&guard, "$lte", 4, erase_version);
  bson_append_document_end(filter.get(), &guard);
  return filter;
}

// -- reading replies ---------------------------------------------------------

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

// Judges a failed bulk: E11000 items are collected into `dups` (as indices
// into `subset`); anything else fails the step. A network-level error wins
// over item errors: a later batch may not have been sent at all.
status judge_bulk(const bson_t& reply, const bson_error_t& err,
                  const std::vector<size_t>& subset,
                  std::vector<size_t>& dups) {
  status s = status_of(err);
  switch (s.kind) {
    case mongo_error_kind::network:
    case mongo_error_kind::not_primary:
    case mongo_error_kind::timeout:
    case mongo_error_kind::other:
      return s;
    default:
      break;
  }
  bson_iter_t it, item;
  if (bson_iter_init_find(&it, &reply, "writeConcernErrors")
      && bson_iter_recurse(&it, &item) && bson_iter_next(&item)) {
    bson_t wce;
    int64_t code = 0;
    if (embedded(&item, &wce) && find_int64(&wce, "code", code)) {
      bson_error_t e{MONGOC_ERROR_WRITE_CONCERN, static_cast<uint32_t>(code),
                     ""};
      return status_of(e);
    }
    return malformed("write concern error without code");
  }
  if (!bson_iter_init_find(&it, &reply, "writeErrors")
      || !bson_iter_recurse(&it, &item))
    return s; // a command-level error
  std::vector<size_t> found;
  while (bson_iter_next(&item)) {
    bson_t we;
    int64_t code = 0, index = 0;
    if (!embedded(&item, &we) || !find_int64(&we, "code", code)
        || !find_int64(&we, "index", index) || index < 0
        || static_cast<size_t>(index) >= subset.size())
      return malformed("write error without code or index");
    if (classify_server_code(static_cast<uint32_t>(code))
        != mongo_error_kind::duplicate_key)
      return {mongo_error_kind::write_error, err.domain,
              static_cast<uint32_t>(code)};
    found.push_back(subset[static_cast<size_t>(index)]);
  }
  if (found.empty())
    return s;
  dups.insert(dups.end(), found.begin(), found.end());
  return {};
}

} // namespace

// -- classification ----------------------------------------------------------

std::string_view to_string(mongo_error_kind x) {
  // Indexed by the enum's value; keep in declaration order.
  static constexpr std::string_view names[]
    = {"none",        "duplicate_key", "network",       "timeout",
       "not_primary", "write_error",   "command_error", "other"};
  auto i = static_cast<size_t>(x);
  return i < std::size(names) ? names[i] : "other";
}

mongo_error_kind classify(const bson_error_t& e) {
  switch (e.domain) {
    case 0:
      return e.code == 0 ? mongo_error_kind::none : mongo_error_kind::other;
    case MONGOC_ERROR_STREAM:
      // Refused, reset, hung up or timed out: libmongoc 1.23 reports a
      // socket timeout and a peer hang-up with the same code.
      return mongo_error_kind::network;
    case MONGOC_ERROR_SERVER_SELECTION:
      return e.code == MONGOC_ERROR_SERVER_SELECTION_FAILURE
               ? mongo_error_kind::network
               : mongo_error_kind::other;
    case MONGOC_ERROR_SERVER:
    case MONGOC_ERROR_WRITE_CONCERN: {
      auto kind = classify_server_code(e.code);
      if (kind != mongo_error_kind::none)
        return kind;
      return e.domain == MONGOC_ERROR_SERVER ? mongo_error_kind::command_error
                                             : mongo_error_kind::write_error;
    }
    default:
      // Client-side: authentication, protocol, BSON, invalid arguments.
      return mongo_error_kind::other;
  }
}

bool is_retryable(mongo_error_kind x) {
  return x == mongo_error_kind::network || x == mongo_error_kind::not_primary;
}

errc to_errc(mongo_error_kind x) {
  switch (x) {
    case mongo_error_kind::network:
    case mongo_error_kind::not_primary:
      return errc::cold_unavailable;
    case mongo_error_kind::timeout:
      return errc::timeout;
    default:
      return errc::cold_error;
  }
}

// -- the store ---------------------------------------------------------------

struct mongo_store::impl {
  mongo_store_config cfg;
  mongoc_uri_t* uri = nullptr;
  mongoc_client_t* client = nullptr;
  mongoc_write_concern_t* wc = nullptr;
  mongoc_collection_t* keys = nullptr;
  mongoc_collection_t* sessions = nullptr;
  mongo_error_kind last = mongo_error_kind::none;

  ~impl() {
    if (keys)
      mongoc_collection_destroy(keys);
    if (sessions)
      mongoc_collection_destroy(sessions);
    if (client)
      mongoc_client_destroy(client);
    if (wc)
      mongoc_write_concern_destroy(wc);
    if (uri)
      mongoc_uri_destroy(uri);
  }

  template <class Step>
  status retry(Step&& step) {
    auto backoff = cfg.retry_backoff;
    for (int attempt = 1;; ++attempt) {
      status s = step();
      s.attempts = attempt;
      if (s.ok() || !is_retryable(s.kind) || attempt > cfg.max_retries)
        return s;
      std::this_thread::sleep_for(backoff);
      backoff *= 2;
    }
  }

  failure fail(std::string_view op, const status& s) {
    last = s.kind;
    std::string detail(op);
    detail += ": ";
    detail += to_string(s.kind);
    if (s.note) {
      detail += " (";
      detail += s.note;
      detail += ")";
    } else {
      detail += " (mongoc domain " + std::to_string(s.domain) + " code "
                + std::to_string(s.code) + ")";
    }
    detail += " after " + std::to_string(s.attempts) + " attempt(s)";
    return failure{to_errc(s.kind), std::move(detail)};
  }

  bson_ptr write_opts() {
    bson_ptr opts{bson_new()};
    mongoc_write_concern_append(wc, opts.get());
    return opts;
  }

  status bulk_round(mongoc_collection_t* col, std::vector<guarded_op>& ops,
                    const std::vector<size_t>& subset,
                    std::vector<size_t>& dups);
  status write_guarded(mongoc_collection_t* col, std::vector<guarded_op>& ops);
  status write_erase_mark(const std::string& sid, int64_t erase_version);
  outcome<bool> erase_all(const std::string& sid);
  outcome<bool> erase_up_to(const std::string& sid, int64_t erase_version);
  outcome<bool> write_fields(const persist_request& req, int64_t version);
  status read_watermark(const std::string& sid, session_snapshot& snap,
                        int64_t& erased_at);
  status read_keys(const std::string& sid, const std::vector<std::string>* only,
                   int64_t erased_at, session_snapshot& snap);
  outcome<session_snapshot> read(const std::string& sid,
                                 const std::vector<std::string>* only);
  status delete_docs(mongoc_collection_t* col, const bson_t& filter, bool many,
                     int64_t& deleted);
};

// One unordered bulk of the ops in `subset`, each an upsert. One round trip
// unless libmongoc must split a batch by size.
status mongo_store::impl::bulk_round(mongoc_collection_t* col,
                                     std::vector<guarded_op>& ops,
                                     const std::vector<size_t>& subset,
                                     std::vector<size_t>& dups) {
  bson_ptr opts = write_opts();
  BSON_APPEND_BOOL(opts.get(), "ordered", false);
  bulk_ptr bulk{
    mongoc_collection_create_bulk_operation_with_opts(col, opts.get())};
  bson_ptr upsert{BCON_NEW("upsert", BCON_BOOL(true))};
  bson_error_t err{};
  for (size_t i : subset)
    if (!mongoc_bulk_operation_update_one_with_opts(
          bulk.get(), ops[i].filter.get(), ops[i].update.get(), upsert.get(),
          &err))
      return status_of(err);
  reply_doc reply;
  if (mongoc_bulk_operation_execute(bulk.get(), &reply.doc, &err) != 0)
    return {};
  return judge_bulk(reply.doc, err, subset, dups);
}

// Runs every op; items answered E11000 go through one confirm round, where
// E11000 is final: the stored doc exists and is at least as new.
status mongo_store::impl::write_guarded(mongoc_collection_t* col,
                                        std::vector<guarded_op>& ops) {
  std::vector<size_t> all(ops.size());
  std::iota(all.begin(), all.end(), size_t{0});
  std::vector<size_t> dups;
  status s = retry([&] {
    dups.clear();
    return bulk_round(col, ops, all, dups);
  });
  if (!s.ok() || dups.empty())
    return s;
  std::vector<size_t> newer;
  return retry([&] {
    newer.clear();
    return bulk_round(col, ops, dups, newer);
  });
}

// The erase mark is an upsert on _id without a guard. E11000 on it means
// only that a concurrent writer inserted the session doc first; the second
// round then matches that doc, so E11000 there is a real failure (unlike a
// guarded upsert's, it cannot mean "already newer").
status mongo_store::impl::write_erase_mark(const std::string& sid,
                                           int64_t erase_version) {
  std::vector<guarded_op> ops;
  ops.push_back(erase_mark_op(sid, erase_version));
  const std::vector<size_t> only{0};
  std::vector<size_t> dups;
  constexpr int rounds = 2;
  for (int round = 0; round < rounds; ++round) {
    status s = retry([&] {
      dups.clear();
      return bulk_round(sessions, ops, only, dups);
    });
    if (!s.ok() || dups.empty())
      return s;
  }
  return {mongo_error_kind::duplicate_key, MONGOC_ERROR_SERVER, 11000};
}

// The unconditional erase: the session doc first, then every key doc and
// tombstone. True if anything existed.
outcome<bool> mongo_store::impl::erase_all(const std::string& sid) {
  // The watermark goes first: a session doc then always means "all fields up
  // to v are present", the same promise persist keeps by writing it last.
  bson_ptr by_id{bson_new()};
  append_utf8(by_id.get(), "_id", sid);
  int64_t sessions_deleted = 0;
  status s = retry(
    [&] { return delete_docs(sessions, *by_id, false, sessions_deleted); });
  if (!s.ok())
    return fail("erase session", s);
  bson_ptr by_session{bson_new()};
  append_utf8(by_session.get(), "_id.s", sid);
  int64_t keys_deleted = 0;
  s = retry([&] { return delete_docs(keys, *by_session, true, keys_deleted); });
  if (!s.ok())
    return fail("erase keys", s);
  return sessions_deleted + keys_deleted > 0;
}

// The versioned erase at D: the mark first (from then on every read hides
// key docs at or below D, so the session reads as deleted even if the
// delete below never runs), then the key docs at or below D go. Docs newer
// than D belong to writes made after the delete and stay.
outcome<bool> mongo_store::impl::erase_up_to(const std::string& sid,
                                             int64_t erase_version) {
  status s = write_erase_mark(sid, erase_version);
  if (!s.ok())
    return fail("erase mark", s);
  bson_ptr filter = erased_keys_filter(sid, erase_version);
  int64_t keys_deleted = 0;
  s = retry([&] { return delete_docs(keys, *filter, true, keys_deleted); });
  if (!s.ok())
    return fail("erase keys", s);
  return true;
}

// The key docs at `version`, then (last, and only after every key doc was
// acknowledged) the watermark. With no fields, the watermark alone.
outcome<bool> mongo_store::impl::write_fields(const persist_request& req,
                                              int64_t version) {
  // One op per field, the last write of a field winning; sorted by name so
  // the command is deterministic.
  std::map<std::string_view, const field_write*> latest;
  for (const auto& w : req.fields)
    latest[w.field] = &w;
  std::vector<guarded_op> ops;
  for (const auto& [name, w] : latest)
    ops.push_back(key_op(req.session_id, version, *w));
  if (!ops.empty()) {
    status s = write_guarded(keys, ops);
    if (!s.ok())
      return fail("persist keys", s);
  }
  std::vector<guarded_op> session;
  session.push_back(session_op(req.session_id, version));
  status s = write_guarded(sessions, session);
  if (!s.ok())
    return fail("persist session", s);
  return true;
}

// Reads v and the erase mark dv (0 when absent) of the session doc.
status mongo_store::impl::read_watermark(const std::string& sid,
                                         session_snapshot& snap,
                                         int64_t& erased_at) {
  bson_ptr filter{bson_new()};
  append_utf8(filter.get(), "_id", sid);
  bson_ptr opts{BCON_NEW("limit", BCON_INT64(1))};
  cursor_ptr cur{mongoc_collection_find_with_opts(sessions, filter.get(),
                                                  opts.get(), nullptr)};
  const bson_t* doc = nullptr;
  snap = session_snapshot{};
  erased_at = 0;
  if (mongoc_cursor_next(cur.get(), &doc)) {
    int64_t v = 0;
    if (!find_int64(doc, "v", v) || v < 0)
      return malformed("session document without a valid v");
    if (bson_has_field(doc, "dv")
        && (!find_int64(doc, "dv", erased_at) || erased_at < 0))
      return malformed("session document with an invalid dv");
    // A doc whose v is its erase mark is the trace of a delete, not a
    // session: only a write after the delete (v > dv) makes it one again.
    snap.found = v > erased_at;
    snap.version = static_cast<uint64_t>(v);
  }
  bson_error_t err{};
  if (mongoc_cursor_error(cur.get(), &err))
    return status_of(err);
  return {};
}

status mongo_store::impl::read_keys(const std::string& sid,
                                    const std::vector<std::string>* only,
                                    int64_t erased_at, session_snapshot& snap) {
  bson_ptr filter{bson_new()};
  if (only) {
    bson_t id, in;
    bson_append_document_begin(filter.get(), "_id", 3, &id);
    bson_append_array_begin(&id, "$in", 3, &in);
    for (size_t i = 0; i < only->size(); ++i)
      append_key_id(&in, std::to_string(i).c_str(), sid, (*only)[i]);
    bson_append_array_end(&id, &in);
    bson_append_document_end(filter.get(), &id);
  } else {
    append_utf8(filter.get(), "_id.s", sid);
  }
  bson_t not_deleted;
  bson_append_document_begin(filter.get(), "del", 3, &not_deleted);
  bson_append_bool(&not_deleted, "$ne", 3, true);
  bson_append_document_end(filter.get(), &not_deleted);
  // Key docs at or below the erase mark predate the delete (or are a late
  // persist's orphans): never read back. Without a mark the filter stays as
  // it always was.
  if (erased_at > 0) {
    bson_t newer;
    bson_append_document_begin(filter.get(), "v", 1, &newer);
    bson_append_int64(&newer, "$gt", 3, erased_at);
    bson_append_document_end(filter.get(), &newer);
  }
  // v comes along with val: the snapshot's version must cover every key doc
  // returned (see load() in the header).
  bson_ptr opts{
    BCON_NEW("projection", "{", "val", BCON_INT32(1), "v", BCON_INT32(1), "}")};
  cursor_ptr cur{
    mongoc_collection_find_with_opts(keys, filter.get(), opts.get(), nullptr)};
  const bson_t* doc = nullptr;
  snap.fields.clear();
  // Committed to snap only once the whole cursor was read: a failed attempt
  // (retried) must not leave its partial maximum behind.
  uint64_t newest = snap.version;
  while (mongoc_cursor_next(cur.get(), &doc)) {
    bson_iter_t it, id;
    field_write w;
    if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_DOCUMENT(&it)
        || !bson_iter_recurse(&it, &id) || !find_utf8(&id, "f", w.field))
      return malformed("key document without _id.f");
    if (!bson_iter_init(&it, doc) || !find_utf8(&it, "val", w.value))
      return malformed("live key document without val");
    int64_t v = 0;
    if (!find_int64(doc, "v", v) || v < 0)
      return malformed("live key document without a valid v");
    newest = std::max(newest, static_cast<uint64_t>(v));
    snap.fields.push_back(std::move(w));
  }
  bson_error_t err{};
  if (mongoc_cursor_error(cur.get(), &err))
    return status_of(err);
  snap.version = newest;
  return {};
}

outcome<session_snapshot>
mongo_store::impl::read(const std::string& sid,
                        const std::vector<std::string>* only) {
  session_snapshot snap;
  int64_t erased_at = 0;
  // The watermark first: every key doc read afterwards is at least as new,
  // and the erase mark read with it hides what a delete removed. read_keys
  // then raises the version to the newest key doc it returns.
  status s = retry([&] { return read_watermark(sid, snap, erased_at); });
  if (!s.ok())
    return fail("load session", s);
  if (!only || !only->empty()) {
    s = retry([&] { return read_keys(sid, only, erased_at, snap); });
    if (!s.ok())
      return fail("load keys", s);
  }
  // Key docs without a watermark: a first persist that did not finish.
  // Returning them beats "not found", which would log the account out.
  snap.found = snap.found || !snap.fields.empty();
  std::sort(snap.fields.begin(), snap.fields.end(),
            [](const field_write& a, const field_write& b) {
              return a.field < b.field;
            });
  last = mongo_error_kind::none;
  return snap;
}

status mongo_store::impl::delete_docs(mongoc_collection_t* col,
                                      const bson_t& filter, bool many,
                                      int64_t& deleted) {
  bson_ptr opts = write_opts();
  reply_doc reply;
  bson_error_t err{};
  bool ok = many ? mongoc_collection_delete_many(col, &filter, opts.get(),
                                                 &reply.doc, &err)
                 : mongoc_collection_delete_one(col, &filter, opts.get(),
                                                &reply.doc, &err);
  if (!ok)
    return status_of(err);
  deleted = 0;
  find_int64(&reply.doc, "deletedCount", deleted);
  return {};
}

// -- public interface --------------------------------------------------------

mongo_store::mongo_store(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

mongo_store::~mongo_store() = default;

outcome<std::unique_ptr<mongo_store>>
mongo_store::open(const mongo_store_config& cfg) {
  mongoc_init(); // idempotent (libmongoc guards it with a once-flag)
  auto x = std::make_unique<impl>();
  x->cfg = cfg;
  bson_error_t err{};
  // Details never quote the URI: it may carry a password.
  x->uri = mongoc_uri_new_with_error(cfg.uri.c_str(), &err);
  if (!x->uri)
    return failure{errc::invalid_config, "mongo uri: malformed"};
  if (!mongoc_uri_has_option(x->uri, MONGOC_URI_SOCKETTIMEOUTMS))
    mongoc_uri_set_option_as_int32(x->uri, MONGOC_URI_SOCKETTIMEOUTMS,
                                   default_socket_timeout_ms);
  // retry() is the one retry policy: libmongoc's own retryable reads and
  // writes would repeat every attempt once more and double the time bound.
  // Our steps are idempotent without them; the URI may still enable them.
  for (const char* option : {MONGOC_URI_RETRYREADS, MONGOC_URI_RETRYWRITES})
    if (!mongoc_uri_has_option(x->uri, option))
      mongoc_uri_set_option_as_bool(x->uri, option, false);
  x->wc = mongoc_write_concern_new();
  const auto& w = cfg.write_w;
  if (w == "majority") {
    mongoc_write_concern_set_wmajority(x->wc, 0);
  } else if (!w.empty()
             && w.find_first_not_of("0123456789") == std::string::npos) {
    int n = w.size() > 3 ? 0 : std::stoi(w);
    if (n < 1)
      return failure{errc::invalid_config,
                     "mongo write concern: w must be >= 1 (acknowledged)"};
    mongoc_write_concern_set_w(x->wc, n);
  } else if (!w.empty()) {
    mongoc_write_concern_set_wtag(x->wc, w.c_str());
  } else {
    return failure{errc::invalid_config, "mongo write concern: w is empty"};
  }
  mongoc_write_concern_set_journal(x->wc, cfg.write_journal);
  if (cfg.write_timeout.count() > 0)
    mongoc_write_concern_set_wtimeout_int64(x->wc, cfg.write_timeout.count());
  if (cfg.max_retries < 0 || cfg.retry_backoff.count() < 0)
    return failure{errc::invalid_config, "mongo retries: negative"};
  x->client = mongoc_client_new_from_uri_with_error(x->uri, &err);
  if (!x->client)
    return failure{errc::invalid_config, "mongo uri: rejected by libmongoc"};
  mongoc_client_set_error_api(x->client, MONGOC_ERROR_API_VERSION_2);
  if (!mongoc_uri_get_appname(x->uri))
    mongoc_client_set_appname(x->client, "authstore");
  x->keys
    = mongoc_client_get_collection(x->client, cfg.database.c_str(), "keys");
  x->sessions
    = mongoc_client_get_collection(x->client, cfg.database.c_str(), "sessions");
  return std::unique_ptr<mongo_store>(new mongo_store(std::move(x)));
}

outcome<bool> mongo_store::ensure_indexes() {
  bson_ptr cmd{BCON_NEW("createIndexes", BCON_UTF8("keys"), "indexes", "[", "{",
                        "key", "{", "_id.s", BCON_INT32(1), "}", "name",
                        BCON_UTF8(by_session_index), "}", "]")};
  status s = impl_->retry([&] {
    bson_ptr opts = impl_->write_opts();
    reply_doc reply;
    bson_error_t err{};
    if (mongoc_collection_write_command_with_opts(impl_->keys, cmd.get(),
                                                  opts.get(), &reply.doc, &err))
      return status{};
    return status_of(err);
  });
  if (!s.ok())
    return impl_->fail("ensure indexes", s);
  impl_->last = mongo_error_kind::none;
  return true;
}

outcome<uint64_t> mongo_store::persist(const persist_request& req) {
  // Only an erase without fields may carry version 0 (an unconditional
  // erase of a session Redis had no trace of).
  bool erase_only = req.erase && req.fields.empty();
  if ((req.version == 0 && !erase_only) || req.version > uint64_t{INT64_MAX})
    return failure{errc::invalid_argument, "persist: version out of range"};
  if (req.erase_version > req.version)
    return failure{errc::invalid_argument,
                   "persist: erase_version above version"};
  // Fields written after a delete at D carry a version above D (Redis
  // never reuses a version); at D they would be hidden by the erase.
  if (req.erase && !req.fields.empty() && req.erase_version != 0
      && req.erase_version >= req.version)
    return failure{errc::invalid_argument,
                   "persist: fields at or below the erase version"};
  // The erase first: the fields are what was written after the delete.
  if (req.erase) {
    auto erased = req.erase_version == 0
                    ? impl_->erase_all(req.session_id)
                    : impl_->erase_up_to(
                      req.session_id, static_cast<int64_t>(req.erase_version));
    if (!erased)
      return erased.error();
  }
  // An erase without fields has no watermark step: the mark already set
  // v = D, or the unconditional erase removed the doc.
  if (!erase_only) {
    auto written = impl_->write_fields(req, static_cast<int64_t>(req.version));
    if (!written)
      return written.error();
  }
  impl_->last = mongo_error_kind::none;
  return req.version;
}

outcome<session_snapshot> mongo_store::load(const std::string& sid) {
  return impl_->read(sid, nullptr);
}

outcome<session_snapshot>
mongo_store::load_fields(const std::string& sid,
                         const std::vector<std::string>& fields) {
  return impl_->read(sid, &fields);
}

outcome<bool> mongo_store::erase(const std::string& sid) {
  auto erased = impl_->erase_all(sid);
  if (erased)
    impl_->last = mongo_error_kind::none;
  return erased;
}

outcome<bool> mongo_store::ping() {
  // Not retried: a readiness probe reports the present, not the best of
  // three.
  bson_ptr cmd{BCON_NEW("ping", BCON_INT32(1))};
  reply_doc reply;
  bson_error_t err{};
  if (!mongoc_client_command_simple(impl_->client, "admin", cmd.get(), nullptr,
                                    &reply.doc, &err))
    return impl_->fail("ping", status_of(err));
  impl_->last = mongo_error_kind::none;
  return true;
}

mongo_error_kind mongo_store::last_error_kind() const {
  return impl_->last;
}

} // namespace authstore
