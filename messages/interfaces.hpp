// interfaces.hpp -- every actor interface of the engine, as typed actors.
//
// Typed handles give compile-time checks for request/delegate and, across
// the middleman, an interface check at connect time (a client built against
// another protocol is refused with unexpected_actor_messaging_interface).
// Only files that spawn or talk to actors include this header: it pulls in
// CAF (about 9 s of compile time per file).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/atoms.hpp"
#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/redis_wire.hpp"

namespace authstore {

/// One session's outcome in a batch operation: ok with a result, or an error.
struct session_result {
  std::string session_id;
  /// 0 when the operation succeeded, else an errc value.
  uint8_t error = 0;
  /// Error context for people (never contains values).
  std::string detail;
  /// get_creds result (batch get).
  creds_reply creds;
  /// del result (batch delete): whether the session existed.
  bool existed = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_result& x) {
  return f(x.session_id, x.error, x.detail, x.creds, x.existed);
}

/// Counters of the session router.
struct router_stats {
  uint64_t live_sessions = 0;
  uint64_t activations = 0;
  uint64_t passivations = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats& x) {
  return f(x.live_sessions, x.activations, x.passivations);
}

/// The per-session operations; spoken by clients to the router and by the
/// router to session actors. Errors: invalid_session_id, invalid_argument,
/// value_too_large, version_conflict, hot_unavailable, hot_out_of_memory,
/// hot_error, timeout, no_cold_store, cold_unavailable. Never "not found".
using session_api = caf::typed_actor<
  /// Creds of a session; found=false only after a successful empty read.
  caf::replies_to<get_creds_atom, std::string>::with<creds_reply>,
  /// Keys of one type by id; absent ids are left out of the reply.
  caf::replies_to<get_keys_atom, std::string, std::string,
                  std::vector<std::string>>::with<keys_reply>,
  /// Apply a patch atomically; the reply is the new version, sent only
  /// after Redis acknowledged.
  caf::replies_to<set_atom, std::string, patch>::with<uint64_t>,
  /// Delete a session; the reply says whether it existed.
  caf::replies_to<del_atom, std::string>::with<bool>,
  /// Refresh the hot TTL; the reply says whether the session exists.
  caf::replies_to<touch_atom, std::string>::with<bool>,
  /// Whether the session exists.
  caf::replies_to<exists_atom, std::string>::with<bool>>;

/// The engine's entry actor: the session API plus batches and statistics.
using router_actor = session_api::extend<
  /// get_creds of many sessions; one result per id, in order.
  caf::replies_to<mget_atom, std::vector<std::string>>::with<
    std::vector<session_result>>,
  /// del of many sessions; one result per id, in order.
  caf::replies_to<mdel_atom, std::vector<std::string>>::with<
    std::vector<session_result>>,
  /// Live actors, activations, passivations.
  caf::replies_to<stats_atom>::with<router_stats>,
  /// Internal timer: passivate sessions idle for longer than configured.
  caf::reacts_to<tick_atom>>;

/// A session actor: the session API plus passivation by its router.
using session_actor = session_api::extend<
  /// Stop after everything queued before this and in flight is answered.
  caf::reacts_to<passivate_atom>>;

/// One Redis connection, pipelined. Errors: hot_unavailable (may or may not
/// have been applied when the connection broke after sending),
/// hot_out_of_memory, hot_error.
using redis_actor = caf::typed_actor<
  /// Run one request; replies with its (flattened) reply.
  caf::replies_to<redis_atom, redis_request>::with<redis_reply>,
  /// Round trips and commands sent so far (pipelining effect).
  caf::replies_to<stats_atom>::with<uint64_t, uint64_t>,
  /// Internal: send the queued requests as one pipeline.
  caf::reacts_to<flush_atom>>;

/// The category of authstore errors inside caf::error.
caf::atom_value error_category();

/// Wraps an errc (and context) into a caf::error.
caf::error make_error(errc code, std::string detail = {});

/// Wraps a failure into a caf::error.
caf::error make_error(const failure& f);

/// Unwraps a caf::error: authstore errors keep their code, CAF's own map to
/// the closest code (request_timeout -> timeout, receiver down ->
/// shutting_down, ...), anything else to internal.
failure to_failure(const caf::error& err);

/// Registers every message type and the error renderer with `cfg`, under the
/// same names on every node.
void register_messages(caf::actor_system_config& cfg);

} // namespace authstore
