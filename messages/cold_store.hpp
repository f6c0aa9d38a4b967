// cold_store.hpp -- what the cold path needs from a durable store, as one
// abstract class.
//
// Why: the cold supervisor and its worker must not know which database sits
// behind them. A backend (mongo/ today, postgres/ next, issue #15) is one
// folder with one store class implementing this interface and one error
// classifier of its own; actors/cold_worker.hpp runs any of them on a
// thread of its own. This header is CAF-free and sits in messages/ so that
// it is below every backend folder (HOUSE-STYLE rule 1).
//
// The contract every implementation keeps (docs/ARCHITECTURE.md, "Cold
// stores"):
// - Blocking and single-threaded: a store is created, used and destroyed on
//   one thread (the worker's); it is never shared. Every call returns within
//   a bound the store's own configuration sets (connect, socket and
//   statement timeouts, bounded retries).
// - persist is idempotent and never regresses (invariant 3): nothing stored
//   at a version >= the request's changes; "already newer" is a success. An
//   erase (persist with erase and erase_version D) hides and removes what
//   was stored at or below D, and a late persist at or below D resurrects
//   nothing.
// - load returns found=false only after reads that succeeded and found
//   nothing; any backend failure is a failure (invariant 4). Its version
//   covers every field it returns.
// - Failures are errc values (cold_unavailable for "unreachable, try
//   later", timeout for server-side limits, cold_error otherwise,
//   invalid_argument for a request refused before anything was sent), with
//   details that carry no values, session ids, field names or server text.
//   Exceptions are the implementation's business: the worker turns one that
//   escapes into errc::internal for that call.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "messages/errors.hpp"
#include "messages/model.hpp"

namespace authstore {

/// A durable store for persisted sessions (see the file comment).
class cold_store {
public:
  virtual ~cold_store() = default;

  /// The backend's stable name ("mongodb"): the `backend` label of metrics
  /// and logs. One value per store class, never per session.
  virtual std::string_view backend() const = 0;

  /// Makes the store ready to serve: creates indexes, or checks the schema.
  /// Idempotent; called once by every new worker before its first data call
  /// (and again later if it failed). True, or why not.
  virtual outcome<bool> prepare() = 0;

  /// Applies `req` (the outbox's persist) and returns req.version, which
  /// the stored watermark now is at least.
  virtual outcome<uint64_t> persist(const persist_request& req) = 0;

  /// Reads every live field of `sid` and the version they are at.
  virtual outcome<session_snapshot> load(const std::string& sid) = 0;

protected:
  cold_store() = default;
  cold_store(const cold_store&) = delete;
  cold_store& operator=(const cold_store&) = delete;
};

/// Creates a store; runs on the worker's thread (the store belongs to it).
/// A failure (bad configuration) is every call's answer on that worker.
using cold_store_opener = std::function<outcome<std::unique_ptr<cold_store>>()>;

/// An opener for `Store`, a cold_store with a static
/// `outcome<std::unique_ptr<Store>> open(const Config&)`; `cfg` is copied
/// into the opener.
template <class Store, class Config>
cold_store_opener opener_of(Config cfg) {
  return [cfg = std::move(cfg)]() -> outcome<std::unique_ptr<cold_store>> {
    auto store = Store::open(cfg);
    if (!store)
      return store.error();
    return std::unique_ptr<cold_store>{std::move(*store)};
  };
}

} // namespace authstore
