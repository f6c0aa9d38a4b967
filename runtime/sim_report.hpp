// sim_report.hpp -- the simulator's final report: text for people, JSON for
// scripts. Every JSON field is documented in docs/SIM-REPORT.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>

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
};

/// Resident set size of this process (from /proc/self/statm).
uint64_t current_rss_bytes();

/// Collects the report after the drivers finished. `e` is null when the
/// simulation ran against a remote node: the Redis and actor figures are
/// then the server's and are left at zero (with `remote` set).
sim_report make_sim_report(engine* e, const sim_plan& plan,
                           const sim_counters& c, double load_seconds,
                           uint64_t rss_before);

/// Human-readable report.
std::string render_text(const sim_report& r);

/// JSON report (schema: docs/SIM-REPORT.md).
json render_json(const sim_report& r);

} // namespace authstore
