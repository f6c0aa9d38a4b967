// api_bridge_impl.hpp -- what the bridge actors know (api_bridge.cpp) and
// the ops routes they answer (ops_routes.cpp). Private to runtime/http/;
// includes CAF.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "messages/interfaces.hpp"
#include "messages/patch_json.hpp"
#include "observe/engine_counters.hpp"
#include "runtime/http/http_message.hpp"

namespace authstore {

/// Called once with a request's reply.
using reply_fn = std::function<void(http_reply)>;

/// Everything a bridge actor needs from the engine.
struct bridge_config {
  router_actor router;
  /// For /readyz (PING each connection).
  std::vector<redis_actor> redis_pool;
  /// Null without a cold store.
  cold_actor cold;
  /// The cluster registrar (/healthz shows the membership); null unless
  /// cluster.enabled.
  registrar_actor registrar;
  const engine_counters* counters = nullptr;
  patch_limits limits;
  /// The engine's own bound plus the reply margin (timing.hpp): a
  /// session's precise error arrives before this fires.
  std::chrono::milliseconds timeout{4000};
  /// The same for batches (the router's per-session batch bound).
  std::chrono::milliseconds batch_timeout{11000};
  /// Bound on one PING for /readyz.
  std::chrono::milliseconds ping_timeout{1500};
};

/// Answers /healthz, /readyz or /metrics through `done`.
void answer_ops(caf::event_based_actor* self, const bridge_config& cfg,
                api_route route, reply_fn done);

} // namespace authstore
