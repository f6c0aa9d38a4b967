// atoms.hpp -- every message tag of the protocol, in one place (CAF 0.17
// atom_constant; at most 10 characters each).
#pragma once

#include <caf/atom.hpp>

namespace authstore {

/// Read a session's creds.
using get_creds_atom = caf::atom_constant<caf::atom("getcreds")>;
/// Read some keys of one type.
using get_keys_atom = caf::atom_constant<caf::atom("getkeys")>;
/// Apply a patch.
using set_atom = caf::atom_constant<caf::atom("set")>;
/// Delete a session (hot and, explicitly, cold).
using del_atom = caf::atom_constant<caf::atom("del")>;
/// Refresh a session's hot TTL.
using touch_atom = caf::atom_constant<caf::atom("touch")>;
/// Does a session exist?
using exists_atom = caf::atom_constant<caf::atom("exists")>;
/// Read a whole session (creds, every key, version) in one snapshot.
using read_session_atom = caf::atom_constant<caf::atom("readsess")>;
/// One page of the walk over the live sessions (dump).
using list_sessions_atom = caf::atom_constant<caf::atom("listsess")>;
/// List the ids of one key type.
using list_keys_atom = caf::atom_constant<caf::atom("listkeys")>;
/// Take, renew or take over a session's client lease.
using lease_atom = caf::atom_constant<caf::atom("lease")>;
/// Release a session's client lease.
using release_atom = caf::atom_constant<caf::atom("release")>;
/// Fan out get_creds over many sessions.
using mget_atom = caf::atom_constant<caf::atom("mgetcreds")>;
/// Fan out del over many sessions.
using mdel_atom = caf::atom_constant<caf::atom("mdel")>;
/// Run one Redis request.
using redis_atom = caf::atom_constant<caf::atom("redis")>;
/// Redis actor internal: flush the pipeline.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Router to session: finish what is queued and in flight, then stop.
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;
/// Router statistics.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
/// Periodic timer tick.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Session actor internal (issue #19): renew the ownership lease.
using renew_atom = caf::atom_constant<caf::atom("renew")>;
/// The cluster's live members, as this node's registrar last saw them.
using members_atom = caf::atom_constant<caf::atom("members")>;
/// Registrar: start heartbeating under this middleman address.
using join_atom = caf::atom_constant<caf::atom("join")>;
/// Session actor to router (issue #19): another node owns this session
/// (node id, lease left in ms): forward its requests there meanwhile.
using owner_atom = caf::atom_constant<caf::atom("owner")>;
/// Router to peer connector: an authenticated connection to this node.
/// Wiring to router: the connector to forward through.
using peer_atom = caf::atom_constant<caf::atom("peer")>;

// -- cold path (issue #4) ----------------------------------------------------

/// Persist a session's changed fields to the cold store.
using persist_atom = caf::atom_constant<caf::atom("persist")>;
/// Load a whole session from the cold store.
using load_atom = caf::atom_constant<caf::atom("load")>;
/// Health snapshot of the cold path (breaker, worker, counters).
using cold_status_atom = caf::atom_constant<caf::atom("coldstatus")>;
/// Operator: open the cold circuit until reset_breaker.
using force_open_atom = caf::atom_constant<caf::atom("forceopen")>;
/// Operator: let every cold call through, untracked, until reset_breaker.
using disable_breaker_atom = caf::atom_constant<caf::atom("disablebrk")>;
/// Operator: end force_open / disable_breaker; the breaker closes.
using reset_breaker_atom = caf::atom_constant<caf::atom("resetbrk")>;
/// Cold supervisor internal: start the next worker after a backoff.
using restart_worker_atom = caf::atom_constant<caf::atom("restartwkr")>;
/// Cold supervisor internal: retry a failed index creation.
using index_retry_atom = caf::atom_constant<caf::atom("idxretry")>;
/// Supervisor to worker: prepare the store (indexes or schema; idempotent).
using worker_init_atom = caf::atom_constant<caf::atom("workerinit")>;

// -- remote access (issue #6) ------------------------------------------------

/// Remote handshake, step 1: protocol version and client nonce in; server
/// nonce and server proof out (runtime/remote/auth.hpp).
using hello_atom = caf::atom_constant<caf::atom("hello")>;
/// Remote handshake, step 2: the client's proof in; a session handle out.
using auth_atom = caf::atom_constant<caf::atom("auth")>;

} // namespace authstore
