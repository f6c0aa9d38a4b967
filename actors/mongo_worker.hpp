// mongo_worker.hpp -- spawns the actor that owns the one MongoDB client of
// the cold path.
//
// The worker is a thin, blocking adapter: it runs detached (its own thread,
// so libmongoc's blocking calls never stall the scheduler) and turns each
// message into one mongo_store call. It has no timeouts, breaker or restart
// logic of its own; the cold_supervisor in front of it owns all three and is
// the only actor that talks to it.
#pragma once

#include "messages/interfaces.hpp"
#include "mongo/store.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Spawns one detached mongo worker owning a mongo_store opened from `cfg`
/// (no connection yet: the first call connects). If the store cannot be
/// opened (bad URI or write concern), the worker still runs and answers
/// every call with that error; the engine checks the config before spawning.
cold_worker_actor spawn_mongo_worker(caf::actor_system& sys,
                                     mongo_store_config cfg);

} // namespace authstore
