// cold_worker_pool.hpp -- several cold workers behind one cold_worker_actor
// handle, so the cold supervisor keeps its one worker and its shape.
//
// Why: a persist waits for its commit to be durable (PostgreSQL's fsync,
// MongoDB's journal), and one worker -- one thread, one connection -- does
// exactly one at a time: about 130 persists/s on this machine's disk,
// where eight connections reach six times that because the server commits
// them together (bench/results/2026-12-06/PG-PERSIST.md). The pool runs N
// workers (production: generic cold workers, actors/cold_worker.hpp, each
// with its own store and connection) and hands each call to the worker of
// its session.
#pragma once

#include <chrono>
#include <cstddef>

#include "actors/cold_supervisor.hpp"
#include "messages/interfaces.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Settings of a pool.
struct cold_worker_pool_config {
  /// Workers (threads, stores, connections); at least 1.
  size_t workers = 4;
  /// Bound on each worker's worker_init; below the supervisor's own bound
  /// on the pool's, so the pool answers (with the failure) before it.
  std::chrono::milliseconds init_timeout{50000};
};

/// Spawns the pool (a scheduled actor; it never blocks) and `cfg.workers`
/// workers made by `make_worker` (production: spawn_cold_worker with the
/// backend's opener, each opening its own store on its own thread). A
/// session always uses worker hash(sid) % workers, so its calls stay in
/// arrival order. The workers are linked to the pool: when one dies the
/// pool dies with it (the supervisor sees its worker go down and restarts
/// the whole pool), and when the pool is stopped every worker stops.
cold_worker_actor spawn_cold_worker_pool(caf::actor_system& sys,
                                         cold_worker_factory make_worker,
                                         cold_worker_pool_config cfg);

} // namespace authstore
