// cold_worker.hpp -- spawns the actor that owns the one cold_store of the
// cold path, whatever its backend.
//
// The worker is a thin, blocking adapter: it runs detached (its own thread,
// so libmongoc's or libpq's blocking calls never stall the scheduler) and
// turns each message into one cold_store call (messages/cold_store.hpp). It
// has no timeouts, breaker or restart logic of its own; the cold_supervisor
// in front of it owns all three and is the only actor that talks to it. A
// backend plugs in by handing its opener here (docs/ARCHITECTURE.md, "Cold
// stores"); nothing in this actor or in the supervisor names a backend.
#pragma once

#include "messages/cold_store.hpp"
#include "messages/interfaces.hpp"

namespace caf {
class actor_system;
}

namespace authstore {

/// Spawns one detached cold worker. `open` runs on the worker's own thread,
/// before the first message is handled (C clients such as libmongoc's and
/// libpq's belong to one thread). It should only parse its configuration
/// and create the client, not connect: the first call connects. If it fails
/// (bad configuration) or throws, the worker still runs and answers every
/// call with that error; the engine checks the configuration before
/// spawning.
cold_worker_actor spawn_cold_worker(caf::actor_system& sys,
                                    cold_store_opener open);

} // namespace authstore
