// faults.cpp -- see faults.hpp.
#include "runtime/sim/faults.hpp"

#include <iostream>

#include "runtime/engine/engine.hpp"
#include "runtime/sim/private_postgres.hpp"
#include "runtime/sim/private_redis.hpp"

namespace authstore {

namespace {

constexpr sim_fault::kind all_kinds[]
  = {sim_fault::kind::redis_pause, sim_fault::kind::redis_kill,
     sim_fault::kind::cold_open, sim_fault::kind::cold_pause,
     sim_fault::kind::cold_kill};

const char* const expected_spec
  = "expected KIND@T:D with KIND one of redis-pause, redis-kill, cold-open, "
    "cold-pause, cold-kill";

void start(sim_fault& f, const fault_targets& t, double elapsed_s) {
  f.started = true;
  std::cerr << "\nsim: fault at " << elapsed_s << " s: ";
  switch (f.what) {
    case sim_fault::kind::redis_pause:
      std::cerr << "SIGSTOP redis-server\n";
      t.redis->pause();
      break;
    case sim_fault::kind::redis_kill:
      std::cerr << "SIGKILL redis-server\n";
      t.redis->kill();
      break;
    case sim_fault::kind::cold_open: {
      auto ok = t.eng->force_cold_open(true);
      std::cerr << "cold store circuit forced open"
                << (ok ? "" : " FAILED: " + ok.error().render()) << '\n';
      break;
    }
    case sim_fault::kind::cold_pause:
      std::cerr << "SIGSTOP PostgreSQL (postmaster and backends)\n";
      t.postgres->pause();
      break;
    case sim_fault::kind::cold_kill:
      std::cerr << "SIGKILL PostgreSQL (postmaster and backends)\n";
      t.postgres->kill();
      break;
  }
}

void end(sim_fault& f, const fault_targets& t) {
  f.ended = true;
  switch (f.what) {
    case sim_fault::kind::redis_pause:
      t.redis->resume();
      std::cerr << "sim: redis-server resumed\n";
      break;
    case sim_fault::kind::redis_kill: {
      auto ok = t.redis->restart();
      std::cerr << "sim: redis-server restarted"
                << (ok ? "" : " FAILED: " + ok.error().render()) << '\n';
      break;
    }
    case sim_fault::kind::cold_open: {
      auto ok = t.eng->force_cold_open(false);
      std::cerr << "sim: cold store circuit back to automatic"
                << (ok ? "" : " FAILED: " + ok.error().render()) << '\n';
      break;
    }
    case sim_fault::kind::cold_pause:
      t.postgres->resume();
      std::cerr << "sim: PostgreSQL resumed\n";
      break;
    case sim_fault::kind::cold_kill: {
      bool ok = t.postgres->start(); // crash recovery, then accepting
      std::cerr << "sim: PostgreSQL restarted"
                << (ok ? " (crash recovery done)"
                       : " FAILED: " + t.postgres->last_error())
                << '\n';
      break;
    }
  }
}

} // namespace

const char* to_string(sim_fault::kind k) {
  switch (k) {
    case sim_fault::kind::redis_pause:
      return "redis-pause";
    case sim_fault::kind::redis_kill:
      return "redis-kill";
    case sim_fault::kind::cold_open:
      return "cold-open";
    case sim_fault::kind::cold_pause:
      return "cold-pause";
    case sim_fault::kind::cold_kill:
      return "cold-kill";
  }
  return "?";
}

const char* to_string(sim_phase p) {
  switch (p) {
    case sim_phase::before_faults:
      return "before_faults";
    case sim_phase::during_faults:
      return "during_faults";
    case sim_phase::after_faults:
      return "after_faults";
  }
  return "?";
}

std::string parse_faults(const std::string& spec, std::vector<sim_fault>& out) {
  size_t pos = 0;
  while (pos < spec.size()) {
    auto end = spec.find(',', pos);
    auto item = spec.substr(pos, end == std::string::npos ? end : end - pos);
    pos = end == std::string::npos ? spec.size() : end + 1;
    auto at = item.find('@');
    auto colon = item.find(':', at == std::string::npos ? 0 : at);
    if (at == std::string::npos || colon == std::string::npos)
      return std::string{"--fault: "} + expected_spec + ", got '" + item + "'";
    auto name = item.substr(0, at);
    sim_fault f;
    bool known = false;
    for (auto k : all_kinds)
      if (name == to_string(k)) {
        f.what = k;
        known = true;
      }
    if (!known)
      return "--fault: unknown fault '" + name + "' (" + expected_spec + ")";
    try {
      f.at_s = std::stod(item.substr(at + 1, colon - at - 1));
      f.for_s = std::stod(item.substr(colon + 1));
    } catch (...) {
      return "--fault: T and D must be seconds, got '" + item + "'";
    }
    if (f.at_s < 0 || f.for_s <= 0)
      return "--fault: T must be >= 0 and D > 0";
    out.push_back(f);
  }
  return {};
}

sim_phase run_faults(std::vector<sim_fault>& faults, const fault_targets& t,
                     double elapsed_s) {
  bool any_started = false, all_ended = !faults.empty();
  for (auto& f : faults) {
    if (!f.started && elapsed_s >= f.at_s)
      start(f, t, elapsed_s);
    if (f.started && !f.ended && elapsed_s >= f.at_s + f.for_s)
      end(f, t);
    any_started = any_started || f.started;
    all_ended = all_ended && f.ended;
  }
  if (!any_started)
    return sim_phase::before_faults;
  return all_ended ? sim_phase::after_faults : sim_phase::during_faults;
}

void end_active_faults(std::vector<sim_fault>& faults, const fault_targets& t) {
  for (auto& f : faults)
    if (f.started && !f.ended)
      end(f, t);
}

} // namespace authstore
