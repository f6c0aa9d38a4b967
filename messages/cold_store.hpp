// cold_store.hpp -- what the cold path needs from a durable store, as one
// abstract class.
//
// Why: the cold supervisor and its worker must not know which database sits
// behind them. A backend (mongo/, postgres/: issue #15) is one
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

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "messages/errors.hpp"
#include "messages/model.hpp"

namespace authstore {

/// The checks every store makes on a persist before anything is sent (one
/// statement of the request's rules, shared by every backend): version 0
/// only for an erase without fields (the unconditional erase of a session
/// Redis had no trace of), no version above INT64_MAX (stored as a signed
/// 64-bit number), erase_version at most version, and fields written after
/// a delete at D carry a version above D (Redis never reuses a version; at
/// D they would be hidden by the erase). invalid_argument otherwise.
outcome<bool> validate_persist(const persist_request& req);

/// What a store counts for the metrics, by its own classifier's kinds (a
/// backend's closed enum, e.g. pg_error_kind), and its reconnects and
/// retries. Written by the store on its worker's thread, read at scrape
/// time by the metrics (relaxed atomics: independent statistics). One per
/// engine, shared by every worker of it; the engine knows the backend and
/// so the names of the kinds (runtime/engine/metrics.cpp).
struct cold_store_counters {
  /// Room for every backend's kinds (pg_error_kind has 21).
  static constexpr size_t max_kinds = 32;
  /// Failed attempts by kind, retried ones included.
  std::array<std::atomic<uint64_t>, max_kinds> failures{};
  /// Connections opened (PostgreSQL; MongoDB's client connects by itself).
  std::atomic<uint64_t> connects{0};
  /// Attempts repeated inside one call: after a conflict (serialization
  /// failure, deadlock) and after a transient failure (reconnect).
  std::atomic<uint64_t> conflict_retries{0};
  std::atomic<uint64_t> transient_retries{0};

  /// Counts one failed attempt of kind `kind` (ignored beyond max_kinds).
  void failed(size_t kind) {
    if (kind < max_kinds)
      failures[kind].fetch_add(1, std::memory_order_relaxed);
  }
};

/// A durable store for persisted sessions (see the file comment).
class cold_store {
public:
  virtual ~cold_store() = default;

  /// The backend's stable name ("mongodb", "postgresql"): the `backend`
  /// label of metrics and logs. One value per store class, never per
  /// session.
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
