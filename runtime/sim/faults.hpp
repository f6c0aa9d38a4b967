// faults.hpp -- the simulator's fault injection (`authstore sim --fault`):
// what a fault spec means, and starting and ending faults on time.
//
// Faults act only on what the simulator owns: its own redis-server (no
// --redis given), its own PostgreSQL (--cold-server postgresql), and the
// in-process engine's cold-store circuit. The simulation's phases follow
// them: before the first fault starts, while any is active, after the last
// one ended; the report splits latencies by phase, so "did the fault slow
// hot writes" is read from one run. CAF-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace authstore {

class engine;
class private_postgres;
class private_redis;

/// One fault: what, at `at_s` seconds after the load started, for `for_s`.
struct sim_fault {
  enum class kind : uint8_t {
    /// SIGSTOP the simulator's redis-server, SIGCONT after for_s.
    redis_pause,
    /// SIGKILL it, restart after for_s (AOF, fsync always: acknowledged
    /// writes must survive).
    redis_kill,
    /// The cold store's circuit forced open (every persist refused at once,
    /// as with an unreachable cold store), then back to automatic.
    cold_open,
    /// SIGSTOP the simulator's PostgreSQL (postmaster and every backend: a
    /// hung server whose sockets stay open), SIGCONT after for_s.
    cold_pause,
    /// SIGKILL the simulator's PostgreSQL and every backend, restart after
    /// for_s (crash recovery from its WAL, fsync on).
    cold_kill,
  };
  kind what = kind::redis_pause;
  double at_s = 0;
  double for_s = 0;
  bool started = false;
  bool ended = false;

  /// Acts on the simulator's own redis-server.
  bool on_redis() const {
    return what == kind::redis_pause || what == kind::redis_kill;
  }
  /// Acts on the simulator's own PostgreSQL.
  bool on_cold_server() const {
    return what == kind::cold_pause || what == kind::cold_kill;
  }
};

/// The spec token of `k` ("redis-pause", ...).
const char* to_string(sim_fault::kind k);

/// Parses "redis-pause@T:D,cold-kill@T:D,..." into `out`; returns an error
/// text for people, or "".
std::string parse_faults(const std::string& spec, std::vector<sim_fault>& out);

/// What faults act on; null members are not there (their faults were
/// refused at parse time by the command).
struct fault_targets {
  private_redis* redis = nullptr;
  private_postgres* postgres = nullptr;
  engine* eng = nullptr;
};

/// The phase of a simulation with faults.
enum class sim_phase : uint8_t { before_faults, during_faults, after_faults };
constexpr size_t sim_phase_count = 3;

/// The report label of a phase ("before_faults", ...).
const char* to_string(sim_phase p);

/// Starts and ends the faults due at `elapsed_s` (one line on stderr each)
/// and returns the phase the simulation is in afterwards.
sim_phase run_faults(std::vector<sim_fault>& faults, const fault_targets& t,
                     double elapsed_s);

/// Ends every fault that started and has not ended (the load is over: the
/// drain and the verification need the servers back).
void end_active_faults(std::vector<sim_fault>& faults, const fault_targets& t);

} // namespace authstore
