// metrics.hpp -- every Prometheus metric of authstore, defined in one place.
//
// The actors count into plain atomics (observe/engine_counters.hpp); this
// file names them (`authstore_<subsystem>_<what>_<unit>`, base units,
// `_total` on counters), writes their help text (how to read the number) and
// renders the Prometheus text format at scrape time. Labels come only from
// closed enums (op, result, kind, backend), never from a session id, so the
// number of series is fixed. CAF-free.
#pragma once

#include <string>
#include <vector>

#include "observe/engine_counters.hpp"

namespace authstore {

struct cold_status;

/// Renders all metric families in the Prometheus text format (0.0.4).
/// `cold` is the cold supervisor's status at scrape time (null without a
/// cold store, or when it did not answer: its families are then emitted
/// with zeros, breaker state -1 and backend="none"). Every cold family
/// carries the label backend=cold->backend ("mongodb", "postgresql").
std::string render_metrics(const engine_counters& counters,
                           const cold_status* cold = nullptr);

/// The tokens of a backend's own failure kinds, indexed by the kind's value
/// as its store counts them in cold_store_counters::failures (index 0 is
/// "none"): pg_error_kind for "postgresql", mongo_error_kind for "mongodb";
/// empty for any other backend.
std::vector<std::string> cold_error_kind_names(const std::string& backend);

/// Names of every metric family render_metrics emits (for tests and the
/// dashboard/alert checks).
std::vector<std::string> metric_family_names();

} // namespace authstore
