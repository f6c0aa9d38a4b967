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

} // namespace authstore
