// api_bridge.hpp -- hands HTTP requests to the engine's actors without
// blocking the HTTP thread, and their replies back (issue #14).
//
//   HTTP I/O thread --anon_send(api_job)--> bridge actor k (round robin)
//     --request(router, bound).then(ok, error)--> reply rendered on the
//     actor's thread --> http_responder (posts to the I/O thread)
//
// Why a pool of event-based actors in the engine's own actor system: a
// request/then keeps the HTTP thread free (it never waits for an actor),
// every request gets a finite bound and an error handler, and CAF 0.17
// keeps a requester's pending replies in a vector searched linearly
// (CAF-0.17-GUIDE §3), so each actor should have at most ~100 in flight:
// the pool has one actor per 100 of api.max-in-flight. Bodies are parsed
// (patch JSON, codec) on the actor's thread too, not on the I/O thread.
//
// Also the ops endpoint: /healthz (the router answers a stats query within
// 1 s), /readyz (every Redis connection answers PING; the cold store is
// reported, not required), /metrics (the counters plus the cold
// supervisor's status); all asynchronous, as everything else.
//
// The job message carries a callback, so it is a local-only message type
// (CAF_ALLOW_UNSAFE_MESSAGE_TYPE); it never crosses the middleman.
//
// Lifecycle: start() spawns the actors; stop() (or the destructor) sends
// them user_shutdown; requests still waiting are then dropped, and their
// responders answer 500 internal (http_server.hpp). CAF-free header.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "observe/engine_counters.hpp"
#include "runtime/http/http_message.hpp"

namespace authstore {

class engine;

/// One request for the engine, as routed (path parameters validated; the
/// body still raw).
struct api_call {
  api_route route = api_route::unknown;
  std::string sid;
  std::string type;
  std::string body;
};

class api_bridge {
public:
  /// Spawns `actors` bridge actors in `e`'s actor system.
  static std::shared_ptr<api_bridge> start(engine& e, size_t actors);

  /// One actor per this many requests in flight (CAF 0.17's linear
  /// response map stays short).
  static constexpr size_t requests_per_actor = 100;

  ~api_bridge();

  /// Hands `call` to an actor and returns at once; `done` is called once,
  /// from an actor's thread, with the reply (also with an error reply).
  /// Calls for one session, submitted from one thread, reach the engine in
  /// the order submitted.
  void submit(api_call call, std::function<void(http_reply)> done);

  /// Stops the actors. Idempotent.
  void stop();

  struct impl;

private:
  explicit api_bridge(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
