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
#include "messages/breaker_state.hpp"
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
/// value_too_large, version_conflict, session_in_use, fenced, not_owner,
/// hot_unavailable, hot_out_of_memory, hot_error, timeout, no_cold_store,
/// cold_unavailable. Never "not found".
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
  /// Delete a session, fenced by a client lease when one is given (fenced:
  /// nothing deleted); whether it existed and the version it got.
  caf::replies_to<del_atom, std::string, lease_token>::with<delete_reply>,
  /// Refresh the hot TTL; the reply says whether the session exists.
  caf::replies_to<touch_atom, std::string>::with<bool>,
  /// Whether the session exists.
  caf::replies_to<exists_atom, std::string>::with<bool>,
  /// The whole session (creds and keys as field writes, version) read in
  /// one script call, so one consistent snapshot; found=false only after a
  /// successful read of no live session. Also value_too_large: more fields
  /// or bytes than one patch may carry (limits.max_writes,
  /// limits.max_patch_bytes), so what it returns one write can restore.
  caf::replies_to<read_session_atom, std::string>::with<session_snapshot>,
  /// Every id stored for one key type, sorted; value_too_large when the
  /// session has more keys than one list reads (redis_layout).
  caf::replies_to<list_keys_atom, std::string,
                  std::string>::with<key_ids_reply>,
  /// Take, renew or take over the client lease; session_in_use when
  /// another holder's is live.
  caf::replies_to<lease_atom, std::string, lease_request>::with<lease_reply>,
  /// Release the holder's client lease; whether it held it.
  caf::replies_to<release_atom, std::string, std::string>::with<bool>>;

/// The engine's entry actor: the session API plus batches and statistics.
using router_actor = session_api::extend<
  /// get_creds of many sessions; one result per id, in order.
  caf::replies_to<mget_atom,
                  std::vector<std::string>>::with<std::vector<session_result>>,
  /// del of many sessions; one result per id, in order.
  caf::replies_to<mdel_atom,
                  std::vector<std::string>>::with<std::vector<session_result>>,
  /// Live actors, activations, passivations.
  caf::replies_to<stats_atom>::with<router_stats>,
  /// (cursor, count): one SCAN step over the sessions Redis holds ("0"
  /// starts; the reply's cursor "0" ends the walk); tombstones left out.
  /// SCAN's guarantees: a session live for the whole walk is named at least
  /// once, one created or deleted meanwhile may or may not be. Errors:
  /// invalid_argument (count 0 or above 10000), hot_unavailable,
  /// hot_error, timeout.
  caf::replies_to<list_sessions_atom, std::string,
                  uint32_t>::with<session_page>,
  /// Internal timer: passivate sessions idle for longer than configured.
  caf::reacts_to<tick_atom>>;

/// A session actor: session_api for the one session it owns, so without
/// the session id (its router knows which actor owns which id and
/// translates), plus passivation by the router. Replies and errors as
/// session_api's.
using session_actor = caf::typed_actor<
  /// Creds; found=false only after a successful empty read.
  caf::replies_to<get_creds_atom>::with<creds_reply>,
  /// Keys of one type by id; absent ids are left out of the reply.
  caf::replies_to<get_keys_atom, std::string,
                  std::vector<std::string>>::with<keys_reply>,
  /// Apply a patch atomically; the new version, after Redis acknowledged.
  caf::replies_to<set_atom, patch>::with<uint64_t>,
  /// Delete the session; whether it existed.
  caf::replies_to<del_atom>::with<bool>,
  /// Delete the session, fenced by a lease when given; existed, version.
  caf::replies_to<del_atom, lease_token>::with<delete_reply>,
  /// Refresh the hot TTL; whether the session exists.
  caf::replies_to<touch_atom>::with<bool>,
  /// Whether the session exists.
  caf::replies_to<exists_atom>::with<bool>,
  /// The whole session in one consistent snapshot.
  caf::replies_to<read_session_atom>::with<session_snapshot>,
  /// Every id stored for one key type, sorted.
  caf::replies_to<list_keys_atom, std::string>::with<key_ids_reply>,
  /// Take, renew or take over the client lease.
  caf::replies_to<lease_atom, lease_request>::with<lease_reply>,
  /// Release the holder's client lease; whether it held it.
  caf::replies_to<release_atom, std::string>::with<bool>,
  /// Stop after everything queued before this and in flight is answered.
  caf::reacts_to<passivate_atom>,
  /// Internal: the sweep that fails Redis calls past their deadline.
  caf::reacts_to<tick_atom>,
  /// Internal (cluster.enabled): renew the ownership lease.
  caf::reacts_to<renew_atom>>;

/// One Redis connection, pipelined. Errors: hot_unavailable (may or may not
/// have been applied when the connection broke after sending),
/// hot_out_of_memory, hot_error.
using redis_actor = caf::typed_actor<
  /// Run one request; replies with its (flattened) reply.
  caf::replies_to<redis_atom, redis_request>::with<redis_reply>,
  /// Internal: send the queued requests as one pipeline.
  caf::reacts_to<flush_atom>>;

// -- cold path (issue #4) ----------------------------------------------------

/// Health snapshot of the cold path, answered by the cold supervisor at once
/// (it never waits on the worker). Used by health checks and operators.
struct cold_status {
  /// Breaker state (serialized as its gauge value, breaker_state.hpp).
  breaker_state state = breaker_state::closed;
  /// The same state as its stable token ("closed", "half_open", ...).
  std::string state_name;
  /// Outcomes in the rolling window (closed only).
  uint64_t window_calls = 0;
  /// Failures and timeouts in the window.
  uint64_t window_failures = 0;
  /// Calls slower than the slow-call threshold in the window.
  uint64_t window_slow_calls = 0;
  /// Failures in a row (closed only).
  uint64_t consecutive_failures = 0;
  /// Milliseconds until the breaker lets probes through (open only, else 0).
  int64_t next_probe_ms = 0;
  /// Why the breaker last opened ("none" since the last close).
  std::string last_trip;
  /// State changes so far, indexed by from * breaker_state_count + to
  /// (gauge values).
  std::vector<uint64_t> transitions;
  /// Calls answered at once because the circuit was open, forced open, or
  /// half-open with every probe taken (no cold-store call was made).
  uint64_t rejected_open = 0;
  /// Calls answered at once because the worker was down (restarting).
  uint64_t rejected_no_worker = 0;
  /// Calls answered at once because too many were in flight.
  uint64_t rejected_overload = 0;
  /// Calls forwarded to the worker that succeeded, failed, timed out.
  uint64_t calls_succeeded = 0;
  uint64_t calls_failed = 0;
  uint64_t calls_timed_out = 0;
  /// Calls forwarded and not answered yet.
  uint64_t in_flight = 0;
  /// Workers started after the first one (crash restarts).
  uint64_t worker_restarts = 0;
  /// Whether a worker is running now (false while a restart waits).
  bool worker_up = false;
  /// Whether the current worker created its indexes.
  bool indexes_ok = false;
  /// Why index creation failed or is pending ("" when indexes_ok).
  std::string index_detail;
  /// The cold store's backend() ("mongodb", "postgresql"): the `backend`
  /// label of the cold metrics.
  std::string backend;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cold_status& x) {
  return f(x.state, x.state_name, x.window_calls, x.window_failures,
           x.window_slow_calls, x.consecutive_failures, x.next_probe_ms,
           x.last_trip, x.transitions, x.rejected_open, x.rejected_no_worker,
           x.rejected_overload, x.calls_succeeded, x.calls_failed,
           x.calls_timed_out, x.in_flight, x.worker_restarts, x.worker_up,
           x.indexes_ok, x.index_detail, x.backend);
}

/// The cold store's data operations (messages/cold_store.hpp as messages):
/// spoken by the cold supervisor to its worker and, inside cold_actor, by
/// everyone else to the supervisor. A delete is a persist with erase (the
/// outbox carries it). Errors: cold_unavailable (circuit open, worker down,
/// network), cold_error, timeout (may or may not have been applied),
/// overloaded, shutting_down, invalid_argument. Never "not found"
/// (invariant 4).
using cold_store_api = caf::typed_actor<
  /// Applies a persist idempotently (nothing stored at a version >= the
  /// request's changes); the reply is req.version, which the stored
  /// watermark now is at least. "Already newer" is a success.
  caf::replies_to<persist_atom, persist_request>::with<uint64_t>,
  /// A whole session; found=false only after reads that found nothing.
  caf::replies_to<load_atom, std::string>::with<session_snapshot>>;

/// A cold worker (actors/cold_worker.hpp): one blocking cold_store of any
/// backend on its own thread.
using cold_worker_actor = cold_store_api::extend<
  /// Prepares the store (indexes or schema check; idempotent); replies
  /// (true, "") or (false, why).
  caf::replies_to<worker_init_atom>::with<bool, std::string>>;

/// The cold supervisor, the only door to the cold store: circuit breaker,
/// call timeouts, worker restarts.
using cold_actor = cold_store_api::extend<
  /// Health snapshot, answered at once.
  caf::replies_to<cold_status_atom>::with<cold_status>,
  /// Operator: reject every call until reset; replies the new status.
  caf::replies_to<force_open_atom>::with<cold_status>,
  /// Operator: let every call through untracked until reset.
  caf::replies_to<disable_breaker_atom>::with<cold_status>,
  /// Operator: end an override; the breaker closes with a fresh window.
  caf::replies_to<reset_breaker_atom>::with<cold_status>,
  /// Internal: start worker incarnation N (after the restart backoff).
  caf::reacts_to<restart_worker_atom, uint64_t>,
  /// Internal: retry index creation on worker incarnation N.
  caf::reacts_to<index_retry_atom, uint64_t>>;

// -- cluster (issue #19) ------------------------------------------------------

/// One live member of the cluster.
struct cluster_member {
  std::string node_id;
  /// Its middleman address (host:port).
  std::string address;
  /// How long its entry lasts without another heartbeat.
  int64_t expires_in_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_member& x) {
  return f(x.node_id, x.address, x.expires_in_ms);
}

/// The membership as this node's registrar last saw it.
struct cluster_view {
  std::string node_id;
  /// "joining" (no address yet), "ok" (the last heartbeat was answered),
  /// "failing" (it was not; `problem` says why).
  std::string state;
  std::string problem;
  std::vector<cluster_member> members;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_view& x) {
  return f(x.node_id, x.state, x.problem, x.members);
}

/// The cluster registrar (actors/cluster_registrar.hpp): registers this
/// node in Redis and heartbeats (cluster.enabled only).
using registrar_actor = caf::typed_actor<
  /// The membership as last seen; answered at once.
  caf::replies_to<members_atom>::with<cluster_view>,
  /// The membership naming this node id if it is a live member: at once
  /// when the view as last seen names it, else after one fresh heartbeat
  /// (it may have joined since the last one). Used to resolve a node id
  /// to its address for forwarding.
  caf::replies_to<members_atom, std::string>::with<cluster_view>,
  /// Start heartbeating under this middleman address (authstore serve,
  /// once its port is published).
  caf::reacts_to<join_atom, std::string>,
  /// Internal: the heartbeat timer.
  caf::reacts_to<tick_atom>>;

/// Authenticated connections to the other nodes of the cluster
/// (runtime/remote/peer_connector.hpp): what a node forwards through.
using peer_connector_actor = caf::typed_actor<
  /// (node id) -> a connection actor to that node's engine: it speaks the
  /// session API (runtime/remote/connection.hpp) and is authenticated as a
  /// remote client is. Errors: unreachable (not a live member, refused,
  /// handshake not answered), unauthorized, protocol_mismatch.
  caf::replies_to<peer_atom, std::string>::with<caf::actor>>;

/// The engine's router as the engine sees it: router_actor (what clients
/// and session handles are given) plus the cluster's internal messages
/// (issue #19, actors/session_router.hpp).
using engine_router_actor = router_actor::extend<
  /// From a session actor whose ownership take was refused: (session id,
  /// owner node id, ms its lease has left): forward that session there.
  caf::reacts_to<owner_atom, std::string, std::string, int64_t>,
  /// From the wiring (authstore serve): forward through this connector.
  caf::reacts_to<peer_atom, peer_connector_actor>>;

// -- outbox (issue #5) --------------------------------------------------------

/// The outbox reconciler: timer-driven, no requests from outside. It finds
/// sessions left dirty in Redis and persists them through the cold
/// supervisor (actors/outbox_reconciler.hpp).
using reconciler_actor = caf::typed_actor<
  /// Internal: the timer; one round of stats, sweep and persists.
  caf::reacts_to<tick_atom>>;

/// The rekey sweep (issue #17): timer-driven, no requests from outside. It
/// walks the sessions in Redis and re-seals values not under the active key
/// (actors/rekey_sweeper.hpp).
using rekey_sweeper_actor = caf::typed_actor<
  /// Internal: the timer; one SCAN step and its sessions.
  caf::reacts_to<tick_atom>>;

// -- remote access (issue #6) ------------------------------------------------

/// Version of the remote protocol: the handshake below and what a session
/// handle answers. A peer with another version is refused in the hello with
/// protocol_mismatch; a peer whose handle types differ is refused by CAF at
/// connect (unexpected_actor_messaging_interface -> protocol_mismatch).
/// 2: a patch carries if_absent, replace and min_version (issue #16) and
/// a lease_token (issue #14); the session API gains read_session and
/// list_sessions (#16), list_keys, lease, release and the fenced del with
/// its version (#14). A version-1 peer would misread every patch, so it is
/// refused in the hello.
constexpr uint32_t remote_protocol_version = 2;

/// The one actor `authstore serve` publishes. Nothing but this handshake is
/// served before a peer proves that it knows the shared secret
/// (runtime/remote/auth.hpp, runtime/remote/server.hpp). Errors:
/// protocol_mismatch, unauthorized, overloaded, shutting_down.
using auth_gate_actor = caf::typed_actor<
  /// Step 1: (protocol version, client nonce) -> (server nonce, server
  /// proof). The client checks the server's proof before sending its own.
  caf::replies_to<hello_atom, uint32_t, std::string>::with<std::string,
                                                           std::string>,
  /// Step 2: (server nonce, client proof) -> this connection's session: a
  /// router_actor that enforces per-connection limits and dies with the
  /// connection.
  caf::replies_to<auth_atom, std::string, std::string>::with<router_actor>>;

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
