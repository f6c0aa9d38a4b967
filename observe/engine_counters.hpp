// engine_counters.hpp -- what the actors count, as plain atomics.
//
// Why not prometheus-cpp handles: its Histogram takes a mutex per Observe,
// and the design has no locks on the hot path. Actors update these relaxed
// atomics (each an independent statistic); runtime/engine/metrics.cpp turns
// them into Prometheus families at scrape time, with the names, units and help
// text in that one file. No label values come from data (no session ids):
// operations, results and error codes are closed enums, so the number of
// series is bounded. CAF-free.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <iterator>

#include "messages/cold_store.hpp"
#include "messages/errors.hpp"
#include "observe/latency_histogram.hpp"

namespace authstore {

/// Operations counted by kind.
enum class op_kind : uint8_t {
  get_creds,
  get_keys,
  set,
  del,
  touch,
  exists,
  read_session,
  list_keys,
  lease,
};
constexpr size_t op_kind_count = 9;

/// The metric label of an operation.
const char* to_string(op_kind k);

/// The result of one operation: ok, not_found (a successful read of
/// nothing), or an error code.
struct op_result {
  static constexpr size_t ok = 0;
  static constexpr size_t not_found = 1;
  /// Slot of an error code.
  static size_t of(errc code) { return 2 + errc_slot(code); }
  static constexpr size_t slots = 2 + errc_slots;
};

/// Per operation of an enum `Op` with `N` values: a latency histogram and
/// counts by result slot (op_result). Used for session operations and for
/// cold-store calls alike.
template <class Op, size_t N>
struct op_counters {
  std::array<latency_histogram, N> latency;
  std::array<std::array<std::atomic<uint64_t>, op_result::slots>, N> results{};

  /// Counts one operation by result, without a latency sample (answered
  /// before any work was done, e.g. rejected at once).
  void count(Op op, size_t result_slot) {
    results[static_cast<size_t>(op)]
           [result_slot < op_result::slots ? result_slot : op_result::ok]
             .fetch_add(1, std::memory_order_relaxed);
  }

  /// Records one finished operation that took `took`.
  void record(Op op, size_t result_slot, std::chrono::nanoseconds took) {
    latency[static_cast<size_t>(op)].record(took);
    count(op, result_slot);
  }
};

/// Session operations.
using session_op_counters = op_counters<op_kind, op_kind_count>;

/// How a read-through ended: Redis filled with a session the cold store
/// had, with a tombstone for one it lacks, unchanged because Redis got the
/// session meanwhile, or failed (the callers got the error).
struct read_through_result {
  static constexpr size_t loaded = 0;
  static constexpr size_t absent = 1;
  static constexpr size_t raced = 2;
  static constexpr size_t failed = 3;
  static constexpr size_t count = 4;
};

/// The metric label of a read_through_result slot.
const char* read_through_label(size_t slot);

/// Session actors and their router.
struct session_counters {
  session_op_counters ops;
  /// Reads answered from the session actor's cache.
  std::atomic<uint64_t> cache_hits{0};
  /// Reads that went to Redis and found data there.
  std::atomic<uint64_t> redis_hits{0};
  /// Reads that found data only after loading the session from the cold
  /// store (read-through).
  std::atomic<uint64_t> cold_hits{0};
  /// Reads that found nothing anywhere.
  std::atomic<uint64_t> misses{0};
  /// Read-throughs by result (read_through_result).
  std::array<std::atomic<uint64_t>, read_through_result::count> read_through{};
  std::atomic<int64_t> live_actors{0};
  std::atomic<uint64_t> activations{0};
  std::atomic<uint64_t> passivations{0};
};

/// The Redis actors (all pool members together).
struct redis_counters {
  std::atomic<uint64_t> round_trips{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> reconnects{0};
  std::atomic<uint64_t> script_reloads{0};
  /// Requests queued in Redis actors, not yet sent (sampled mailbox depth).
  std::atomic<int64_t> queued{0};
  /// Pipeline sizes (requests per round trip); the histogram's unit is one
  /// request, not nanoseconds.
  latency_histogram batch_sizes;
  /// Failed requests by error code (errc_slot).
  std::array<std::atomic<uint64_t>, errc_slots> errors{};
};

/// Cold-store operations, as the supervisor forwards them.
enum class cold_op : uint8_t { persist, load };
constexpr size_t cold_op_count = 2;

/// The metric label of a cold-store operation.
const char* to_string(cold_op op);

/// The cold supervisor's calls by operation: results (ok or an error code,
/// rejections included) and the latency of calls forwarded to the worker.
using cold_counters = op_counters<cold_op, cold_op_count>;

/// Who ran a persist: a session actor right after a write, or the
/// reconciler for a session left dirty.
enum class persist_path : uint8_t { live, reconciler };
constexpr size_t persist_path_count = 2;

/// The metric label of a persist path.
const char* to_string(persist_path p);

/// The outbox and its persists (issue #5).
struct outbox_counters {
  /// Acknowledged writes (sets and deletes) that left dirty marks.
  std::atomic<uint64_t> dirty_writes{0};
  /// Persists the cold store confirmed and whose marks were cleared.
  std::array<std::atomic<uint64_t>, persist_path_count> persists{};
  /// Outbox reads that found nothing to persist.
  std::array<std::atomic<uint64_t>, persist_path_count> clean_reads{};
  /// Rounds not started because the breaker refused every call (nothing
  /// read from Redis; the marks wait).
  std::array<std::atomic<uint64_t>, persist_path_count> breaker_open{};
  /// Failed persists by path and error code (the reason, errc_slot).
  std::array<std::array<std::atomic<uint64_t>, errc_slots>, persist_path_count>
    failures{};
  /// Dirty marks cleared after a confirmed persist.
  std::atomic<uint64_t> marks_cleared{0};
  /// Outbox read to marks cleared, per path.
  std::array<latency_histogram, persist_path_count> latency;
  /// Live persist chains running now (all sessions), and writes whose live
  /// persist was left to the reconciler because the cap was reached.
  std::atomic<int64_t> live_in_flight{0};
  std::atomic<uint64_t> live_deferred{0};
  // Reconciler only.
  std::atomic<uint64_t> ticks{0};
  /// Ticks that persisted nothing because the breaker was open.
  std::atomic<uint64_t> ticks_cold_open{0};
  /// Sessions another reconciler had claimed.
  std::atomic<uint64_t> claims_lost{0};
  /// Sessions moved to the quarantine by this node.
  std::atomic<uint64_t> quarantined{0};
  /// Dirty sessions the sweep found missing from the index.
  std::atomic<uint64_t> reindexed{0};
  /// Backlog gauges, sampled by the reconciler each tick (-1: never).
  std::atomic<int64_t> backlog_sessions{-1};
  std::atomic<int64_t> backlog_fields{-1};
  std::atomic<int64_t> oldest_age_ms{-1};
  std::atomic<int64_t> quarantine_size{-1};
};

// -- the HTTP API (issue #14) ------------------------------------------------

/// Routes of the HTTP API and of the ops endpoint (docs/HTTP-API.md), as
/// metric labels; `unknown` for a target that matched no route.
enum class api_route : uint8_t {
  get_creds,
  read_keys,
  list_keys,
  write,
  delete_session,
  exists,
  touch,
  batch_creds,
  take_lease,
  release_lease,
  health,
  metrics,
  healthz,
  readyz,
  unknown,
};
constexpr size_t api_route_count = 15;

/// The metric label of a route.
const char* to_string(api_route r);

/// The statuses the HTTP front door answers with, as a closed list of
/// labels (api_status_slot maps anything else to the last slot, "other").
constexpr int api_statuses[]
  = {200, 400, 401, 404, 405, 409, 413, 429, 431, 500, 501, 503, 504};
constexpr size_t api_status_count = std::size(api_statuses) + 1;

/// The slot of `status` in api_statuses (api_status_count - 1: other).
size_t api_status_slot(int status);

/// The label of a status slot ("200" ... "other").
const char* api_status_label(size_t slot);

/// Why the HTTP server closed a connection itself.
enum class api_drop : uint8_t {
  /// A request (or a response) not complete within api.read-timeout-ms.
  read_timeout,
  /// No new request within api.idle-timeout-ms.
  idle_timeout,
  /// The TLS handshake failed (or took longer than the read timeout).
  tls_handshake,
  /// Refused at accept: api.max-connections were open.
  over_limit,
  /// Closed after a reply that ends the connection (413, 431, a bad
  /// request, a rejection before an unread body).
  rejected,
};
constexpr size_t api_drop_count = 5;

/// The metric label of a drop reason.
const char* to_string(api_drop d);

/// The HTTP front door (runtime/http/): requests by route and status, their
/// latency, connections.
struct api_counters {
  std::array<std::array<std::atomic<uint64_t>, api_status_count>,
             api_route_count>
    requests{};
  /// From a complete request to its reply, by route.
  std::array<latency_histogram, api_route_count> latency;
  std::atomic<int64_t> open_connections{0};
  /// Requests handed to the engine and not answered yet.
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> accepted{0};
  std::array<std::atomic<uint64_t>, api_drop_count> dropped{};

  /// Counts one reply of `route` with `status`.
  void count(api_route route, int status) {
    requests[static_cast<size_t>(route)][api_status_slot(status)].fetch_add(
      1, std::memory_order_relaxed);
  }
};

// -- security (issue #17) ----------------------------------------------------

/// The two front doors that authenticate peers.
enum class auth_port : uint8_t { remote, http };
constexpr size_t auth_port_count = 2;

/// The metric label of a front door.
const char* to_string(auth_port p);

/// Encryption at rest (crypto/value_cipher) and failed authentication.
struct security_counters {
  /// Values sealed (each creds field or key value written).
  std::atomic<uint64_t> sealed{0};
  /// Sealed values opened.
  std::atomic<uint64_t> opened{0};
  /// Values read that were still plaintext (written before encryption was
  /// enabled; sealed on their next write or by authstore rekey).
  std::atomic<uint64_t> plaintext_reads{0};
  /// Values that failed to open (decrypt_failed).
  std::atomic<uint64_t> decrypt_failures{0};
  /// Values the rekey sweep re-sealed with the active key.
  std::atomic<uint64_t> rekeyed{0};
  /// Failed authentication attempts, by front door.
  std::array<std::atomic<uint64_t>, auth_port_count> auth_failures{};
  /// Attempts refused unchecked because their source address had failed
  /// too often (auth.max-failures per auth.failure-window-s).
  std::array<std::atomic<uint64_t>, auth_port_count> auth_limited{};
};

/// Node ownership and membership (issue #19, cluster.enabled).
struct cluster_counters {
  /// Sessions this node owns now (gauge: takes minus losses and releases).
  std::atomic<int64_t> owned{0};
  /// Leases taken (a new term), renewed, refused (another node owns the
  /// session), lost (a fenced write or another node's take), released.
  std::atomic<uint64_t> taken{0};
  /// Of the takes, those of a record another process had left to expire
  /// (takeovers: that node died, paused past its lease or lost Redis).
  std::atomic<uint64_t> taken_over{0};
  std::atomic<uint64_t> renewed{0};
  std::atomic<uint64_t> refused{0};
  std::atomic<uint64_t> lost{0};
  std::atomic<uint64_t> released{0};
  /// Writes Redis refused because this node no longer (or never) owned the
  /// session (include/check_owner.lua).
  std::atomic<uint64_t> fenced_writes{0};
  /// Live members as of the last heartbeat (-1: none answered yet), and
  /// heartbeats that failed.
  std::atomic<int64_t> members{-1};
  std::atomic<uint64_t> heartbeat_failures{0};
  /// Requests this node's router forwarded to the owning node, and those
  /// of them that failed in the forward itself (the owner unreachable,
  /// stopping, or no answer in time; the owner's own errors not counted).
  std::atomic<uint64_t> forwards{0};
  std::atomic<uint64_t> forward_failures{0};
};

/// Everything the engine counts; owned by the engine, outlives its actors.
struct engine_counters {
  session_counters sessions;
  redis_counters redis;
  cold_counters cold;
  /// What the cold store itself counts (failed attempts by its kinds,
  /// connects, retries), from every worker's store.
  cold_store_counters cold_store;
  outbox_counters outbox;
  api_counters api;
  security_counters security;
  cluster_counters cluster;
};

} // namespace authstore
