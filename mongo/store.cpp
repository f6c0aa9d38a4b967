// store.cpp -- the operations of mongo_store: open, prepare, persist, load
// (model and guarantees are in the header).
//
// Design: every public call is a short sequence of steps, and each step is
// one libmongoc call (one round trip) run under retry(), which repeats it on
// a transient kind with exponential backoff. Every step is idempotent (a
// guarded upsert, a read, a delete), so repeating one whose reply was lost is
// safe. A step yields a mongo_status (kind, libmongoc domain and code),
// never the error's message text: server messages quote the duplicate key,
// i.e. a session id and a field name. The documents come from
// mongo/documents.hpp; what a failure means is decided in mongo/error.cpp.
//
// The client is a single-threaded mongoc_client_t, not a pool: the store has
// exactly one owner thread, and a single client checks the server on demand
// in that thread instead of in a background monitor. One consequence: after
// a network or not-primary error, libmongoc re-checks the server no sooner
// than minHeartbeatFrequencyMS (500 ms) later, so each such retry costs about
// half a second whatever retry_backoff says.
//
// Size: about 480 lines, above the ~400-line aim, and left whole: what is
// left is the order of the steps (erase, confirm rounds, watermark last,
// watermark-then-keys reads) and open's client setup, and the ordering
// arguments read best beside each other. The BSON and the error meaning are
// already in documents.cpp and error.cpp.
#include "mongo/store.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <thread>
#include <vector>

#include <mongoc/mongoc.h>

#include "messages/backoff.hpp"
#include "mongo/documents.hpp"

namespace authstore {

namespace {

// Applied when the URI sets no socketTimeoutMS: libmongoc's default (5 min)
// would park the worker thread that long on a hung server. 10 s outlasts a
// majority write on a healthy replica set by far.
constexpr int32_t default_socket_timeout_ms = 10000;

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

} // namespace

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
  mongo_status retry(Step&& step) {
    // Doubling from retry_backoff, no cap and no jitter (messages/backoff.hpp).
    authstore::backoff wait{backoff_policy{cfg.retry_backoff}};
    for (int attempt = 1;; ++attempt) {
      mongo_status s = step();
      s.attempts = attempt;
      if (s.ok() || !is_retryable(s.kind) || attempt > cfg.max_retries)
        return s;
      std::this_thread::sleep_for(wait.next());
    }
  }

  failure fail(std::string_view op, const mongo_status& s) {
    last = s.kind;
    return to_failure(op, s);
  }

  bson_ptr write_opts() {
    bson_ptr opts{bson_new()};
    mongoc_write_concern_append(wc, opts.get());
    return opts;
  }

  mongo_status bulk_round(mongoc_collection_t* col,
                          std::vector<guarded_op>& ops,
                          const std::vector<size_t>& subset,
                          std::vector<size_t>& dups);
  mongo_status write_guarded(mongoc_collection_t* col,
                             std::vector<guarded_op>& ops);
  mongo_status write_erase_mark(const std::string& sid, int64_t erase_version);
  outcome<bool> erase_all(const std::string& sid);
  outcome<bool> erase_up_to(const std::string& sid, int64_t erase_version);
  outcome<bool> write_fields(const persist_request& req, int64_t version);
  mongo_status read_watermark(const std::string& sid, session_snapshot& snap,
                              int64_t& erased_at);
  mongo_status read_keys(const std::string& sid, int64_t erased_at,
                         session_snapshot& snap);
  outcome<session_snapshot> read(const std::string& sid);
  mongo_status delete_docs(mongoc_collection_t* col, const bson_t& filter,
                           bool many);
};

// -- writes ------------------------------------------------------------------

// One unordered bulk of the ops in `subset`, each an upsert. One round trip
// unless libmongoc must split a batch by size.
mongo_status mongo_store::impl::bulk_round(mongoc_collection_t* col,
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
  // E11000 items come back as positions in this bulk; `dups` takes them as
  // indices into `ops`.
  std::vector<size_t> positions;
  mongo_status s
    = judge_bulk(err, read_bulk_errors(reply.doc), subset.size(), positions);
  for (size_t p : positions)
    dups.push_back(subset[p]);
  return s;
}

// Runs every op; items answered E11000 go through one confirm round, where
// E11000 is final: the stored doc exists and is at least as new.
mongo_status mongo_store::impl::write_guarded(mongoc_collection_t* col,
                                              std::vector<guarded_op>& ops) {
  std::vector<size_t> all(ops.size());
  std::iota(all.begin(), all.end(), size_t{0});
  std::vector<size_t> dups;
  mongo_status s = retry([&] {
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
mongo_status mongo_store::impl::write_erase_mark(const std::string& sid,
                                                 int64_t erase_version) {
  std::vector<guarded_op> ops;
  ops.push_back(erase_mark_op(sid, erase_version));
  const std::vector<size_t> only{0};
  std::vector<size_t> dups;
  constexpr int rounds = 2;
  for (int round = 0; round < rounds; ++round) {
    mongo_status s = retry([&] {
      dups.clear();
      return bulk_round(sessions, ops, only, dups);
    });
    if (!s.ok() || dups.empty())
      return s;
  }
  return duplicate_key_again();
}

// The unconditional erase: the session doc first, then every key doc and
// tombstone.
outcome<bool> mongo_store::impl::erase_all(const std::string& sid) {
  // The watermark goes first: a session doc then always means "all fields up
  // to v are present", the same promise persist keeps by writing it last.
  bson_ptr by_id = session_filter(sid);
  mongo_status s = retry([&] { return delete_docs(sessions, *by_id, false); });
  if (!s.ok())
    return fail("erase session", s);
  bson_ptr by_session = all_keys_filter(sid);
  s = retry([&] { return delete_docs(keys, *by_session, true); });
  if (!s.ok())
    return fail("erase keys", s);
  return true;
}

// The versioned erase at D: the mark first (from then on every read hides
// key docs at or below D, so the session reads as deleted even if the
// delete below never runs), then the key docs at or below D go. Docs newer
// than D belong to writes made after the delete and stay.
outcome<bool> mongo_store::impl::erase_up_to(const std::string& sid,
                                             int64_t erase_version) {
  mongo_status s = write_erase_mark(sid, erase_version);
  if (!s.ok())
    return fail("erase mark", s);
  bson_ptr filter = erased_keys_filter(sid, erase_version);
  s = retry([&] { return delete_docs(keys, *filter, true); });
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
    mongo_status s = write_guarded(keys, ops);
    if (!s.ok())
      return fail("persist keys", s);
  }
  std::vector<guarded_op> session;
  session.push_back(session_op(req.session_id, version));
  mongo_status s = write_guarded(sessions, session);
  if (!s.ok())
    return fail("persist session", s);
  return true;
}

mongo_status mongo_store::impl::delete_docs(mongoc_collection_t* col,
                                            const bson_t& filter, bool many) {
  bson_ptr opts = write_opts();
  reply_doc reply;
  bson_error_t err{};
  bool ok = many ? mongoc_collection_delete_many(col, &filter, opts.get(),
                                                 &reply.doc, &err)
                 : mongoc_collection_delete_one(col, &filter, opts.get(),
                                                &reply.doc, &err);
  return ok ? mongo_status{} : status_of(err);
}

// -- reads -------------------------------------------------------------------

// Reads v and the erase mark dv (0 when absent) of the session doc.
mongo_status mongo_store::impl::read_watermark(const std::string& sid,
                                               session_snapshot& snap,
                                               int64_t& erased_at) {
  bson_ptr filter = session_filter(sid);
  bson_ptr opts = session_find_opts();
  cursor_ptr cur{mongoc_collection_find_with_opts(sessions, filter.get(),
                                                  opts.get(), nullptr)};
  const bson_t* doc = nullptr;
  snap = session_snapshot{};
  erased_at = 0;
  if (mongoc_cursor_next(cur.get(), &doc)) {
    session_doc_fields d;
    if (mongo_status s = read_session_doc(doc, d); !s.ok())
      return s;
    // A doc whose v is its erase mark is the trace of a delete, not a
    // session: only a write after the delete (v > dv) makes it one again.
    erased_at = d.erased_at;
    snap.found = d.version > d.erased_at;
    snap.version = static_cast<uint64_t>(d.version);
  }
  bson_error_t err{};
  if (mongoc_cursor_error(cur.get(), &err))
    return status_of(err);
  return {};
}

mongo_status mongo_store::impl::read_keys(const std::string& sid,
                                          int64_t erased_at,
                                          session_snapshot& snap) {
  bson_ptr filter = live_keys_filter(sid, erased_at);
  bson_ptr opts = live_keys_find_opts();
  cursor_ptr cur{
    mongoc_collection_find_with_opts(keys, filter.get(), opts.get(), nullptr)};
  const bson_t* doc = nullptr;
  snap.fields.clear();
  // Committed to snap only once the whole cursor was read: a failed attempt
  // (retried) must not leave its partial maximum behind.
  uint64_t newest = snap.version;
  while (mongoc_cursor_next(cur.get(), &doc)) {
    field_write w;
    int64_t v = 0;
    if (mongo_status s = read_key_doc(doc, w, v); !s.ok())
      return s;
    newest = std::max(newest, static_cast<uint64_t>(v));
    snap.fields.push_back(std::move(w));
  }
  bson_error_t err{};
  if (mongoc_cursor_error(cur.get(), &err))
    return status_of(err);
  snap.version = newest;
  return {};
}

outcome<session_snapshot> mongo_store::impl::read(const std::string& sid) {
  session_snapshot snap;
  int64_t erased_at = 0;
  // The watermark first: every key doc read afterwards is at least as new,
  // and the erase mark read with it hides what a delete removed. read_keys
  // then raises the version to the newest key doc it returns.
  mongo_status s = retry([&] { return read_watermark(sid, snap, erased_at); });
  if (!s.ok())
    return fail("load session", s);
  s = retry([&] { return read_keys(sid, erased_at, snap); });
  if (!s.ok())
    return fail("load keys", s);
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
  use_classified_error_api(x->client);
  if (!mongoc_uri_get_appname(x->uri))
    mongoc_client_set_appname(x->client, "authstore");
  x->keys
    = mongoc_client_get_collection(x->client, cfg.database.c_str(), "keys");
  x->sessions
    = mongoc_client_get_collection(x->client, cfg.database.c_str(), "sessions");
  return std::unique_ptr<mongo_store>(new mongo_store(std::move(x)));
}

std::string_view mongo_store::backend() const {
  return backend_name;
}

outcome<bool> mongo_store::prepare() {
  bson_ptr cmd = create_indexes_command();
  mongo_status s = impl_->retry([&] {
    bson_ptr opts = impl_->write_opts();
    reply_doc reply;
    bson_error_t err{};
    if (mongoc_collection_write_command_with_opts(impl_->keys, cmd.get(),
                                                  opts.get(), &reply.doc, &err))
      return mongo_status{};
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
  return impl_->read(sid);
}

outcome<bool> mongo_store::ping() {
  // Not retried: a probe reports the present, not the best of three.
  bson_ptr cmd = ping_command();
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
