// report.hpp -- the simulator's final report: text for people, JSON for
// scripts. Every JSON field is documented in docs/SIM-REPORT.md.
//
// With a cold store (cold.uri set, in-process engine), an outbox_watch
// samples the outbox backlog during and after the load, waits for it to
// drain, then compares every simulated session's cold version with its hot
// one: the outbox's promise is that a drained backlog means cold == hot.
// CAF-free header; the watch talks to the engine's actors in the .cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace authstore {

class engine;
struct sim_plan;
struct sim_counters;

/// Latency and counts of one operation kind.
struct op_report {
  uint64_t count = 0;
  uint64_t errors = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

/// One backlog reading: dirty sessions and fields at `t_s` seconds after
/// the load started.
struct backlog_sample {
  double t_s = 0;
  uint64_t sessions = 0;
  uint64_t fields = 0;
};

/// The cold store's side of a run (issue #5's outbox). Filled only
/// in-process with a cold store; `configured` false otherwise.
struct outbox_report {
  bool configured = false;
  /// engine_outbox_backlog answered (false with outbox.reconcile off: no
  /// timeline, no drain wait).
  bool backlog_available = false;
  /// Acknowledged writes that left dirty marks.
  uint64_t dirty_writes = 0;
  uint64_t persists_live = 0;
  uint64_t persists_reconciler = 0;
  /// Dirty marks (fields) cleared after confirmed persists.
  uint64_t marks_cleared = 0;
  /// dirty_writes / all persists (0 when nothing was persisted).
  double coalescing_ratio = 0;
  /// Failed persists, both paths, and by error token.
  uint64_t persist_failures = 0;
  std::map<std::string, uint64_t> failures_by_code;
  /// Outbox read to marks cleared, per path (microseconds).
  double live_p50_us = 0, live_p99_us = 0;
  double reconciler_p50_us = 0, reconciler_p99_us = 0;
  /// Read-through: sessions Redis had no trace of, by result (loaded,
  /// absent, raced, failed), and reads answered after such a load.
  std::map<std::string, uint64_t> read_through;
  uint64_t cold_reads = 0;
  /// Reconciler ticks, and of those the ones skipped with the breaker open.
  uint64_t ticks = 0;
  uint64_t ticks_cold_open = 0;
  /// The sample with the most dirty fields (the first of equals).
  backlog_sample peak;
  /// The most dirty sessions seen in any sample.
  uint64_t peak_sessions_max = 0;
  /// The first sample at or after the load ended.
  backlog_sample at_load_end;
  double load_end_s = 0;
  /// True once a sample at or after the load's end read 0 sessions and 0
  /// fields; drain_seconds is then that sample's time minus load_end_s.
  bool drained = false;
  double drain_seconds = 0;
  double drain_timeout_s = 0;
  /// The last sample (the remaining backlog when not drained).
  backlog_sample last;
  uint64_t quarantined = 0;
  /// Peak fields (and its sessions) over the seconds from the peak sample
  /// to the first zero sample after it (0 when there is none).
  double drain_fields_per_s = 0;
  double drain_sessions_per_s = 0;
  double peak_to_zero_s = 0;
  /// Backlog reads that failed (their samples are missing).
  uint64_t sample_errors = 0;
  std::vector<backlog_sample> timeline;
  /// Cold == hot: sessions whose cold version equals the hot one, differs
  /// (or is missing), or could not be read from one side.
  uint64_t cold_verified = 0;
  uint64_t cold_mismatched = 0;
  uint64_t cold_errors = 0;
  /// A few mismatches, "sid: cold V, hot W", for the report.
  std::vector<std::string> mismatch_examples;
  double verify_seconds = 0;
  /// Read passes the check took (1 when no read had to be retried).
  int verify_passes = 0;
  /// The cold store's backend ("mongodb", "postgresql").
  std::string backend;
  /// Times the circuit opened (from closed or half-open) during the run.
  uint64_t breaker_opened = 0;
  /// Failed attempts inside the store by its own kinds (only kinds seen).
  std::map<std::string, uint64_t> store_errors_by_kind;
};

/// Latencies of one phase of a run with faults (runtime/sim/faults.hpp).
struct phase_report {
  /// "before_faults", "during_faults", "after_faults".
  std::string name;
  /// Seconds after the load started; to_s of the last phase is the load's
  /// end.
  double from_s = 0, to_s = 0;
  std::map<std::string, op_report> operations;
};

struct sim_report {
  uint64_t seed = 0;
  size_t sessions = 0;
  size_t concurrency = 0;
  double read_ratio = 0;
  std::map<std::string, op_report> operations;
  std::map<std::string, uint64_t> errors_by_code;
  double duration_s = 0;
  double throughput_ops_s = 0;
  uint64_t verified = 0;
  uint64_t uncertain = 0;
  uint64_t lost = 0;
  uint64_t unexpected = 0;
  uint64_t verify_errors = 0;
  uint64_t fields_written = 0;
  uint64_t redis_round_trips = 0;
  uint64_t redis_commands = 0;
  uint64_t live_session_actors = 0;
  uint64_t activations = 0;
  uint64_t passivations = 0;
  uint64_t rss_bytes = 0;
  uint64_t rss_growth_bytes = 0;
  std::string machine;
  /// HOST:PORT of the node simulated against; empty: in-process.
  std::string remote;
  outbox_report outbox;
  /// Latencies by phase; empty without faults.
  std::vector<phase_report> phases;
};

/// Watches the outbox of an in-process engine with a cold store: backlog
/// samples, the drain wait, and the cold == hot check. Blocking calls, for
/// the simulator's main thread; the engine must outlive it.
class outbox_watch {
public:
  /// Null when `e` has no cold store (Redis-only mode).
  static std::unique_ptr<outbox_watch> start(engine& e);

  virtual ~outbox_watch() = default;

  /// Reads the backlog now and records it at `t_s` (seconds since the load
  /// started). Returns false if the read failed.
  virtual bool sample(double t_s) = 0;

  /// The most recent successful sample, if any.
  virtual const backlog_sample* latest() const = 0;

  /// Whether the backlog can be read at all (outbox.reconcile on).
  virtual bool backlog_available() const = 0;

  /// True once a sample at or after `load_end_s` read an empty backlog.
  virtual bool drained_after(double load_end_s) const = 0;

  /// Fills the outbox section: counters, peak, drain figures and the
  /// cold == hot check over every session id of `plan`.
  virtual outbox_report finish(const sim_plan& plan, double load_end_s,
                               double drain_timeout_s)
    = 0;
};

/// Resident set size of this process (from /proc/self/statm).
uint64_t current_rss_bytes();

/// Collects the report after the drivers finished. `e` is null when the
/// simulation ran against a remote node: the Redis and actor figures are
/// then the server's and are left at zero (with `remote` set).
/// `phase_starts` holds, for each phase the run reached in order, its start
/// in seconds after the load started (empty without faults).
sim_report make_sim_report(engine* e, const sim_plan& plan,
                           const sim_counters& c, double load_seconds,
                           uint64_t rss_before,
                           const std::vector<double>& phase_starts = {});

/// Human-readable report.
std::string render_text(const sim_report& r);

/// JSON report (schema: docs/SIM-REPORT.md).
json render_json(const sim_report& r);

} // namespace authstore
