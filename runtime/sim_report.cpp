// sim_report.cpp -- see sim_report.hpp.
#include "runtime/sim_report.hpp"

#include <caf/all.hpp>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

#include "runtime/engine_actors.hpp"
#include "runtime/sim_driver.hpp"

namespace authstore {

uint64_t current_rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  uint64_t pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

namespace {

std::string machine_description() {
  utsname u{};
  ::uname(&u);
  std::ostringstream out;
  out << u.sysname << ' ' << u.release << ' ' << u.machine << ", "
      << std::thread::hardware_concurrency() << " cores";
  std::ifstream cpu{"/proc/cpuinfo"};
  for (std::string line; std::getline(cpu, line);)
    if (line.rfind("model name", 0) == 0) {
      out << ", " << line.substr(line.find(':') + 2);
      break;
    }
  return out.str();
}

} // namespace

sim_report make_sim_report(engine* e, const sim_plan& plan,
                           const sim_counters& c, double load_seconds,
                           uint64_t rss_before) {
  sim_report r;
  r.seed = plan.seed;
  r.sessions = plan.sessions;
  r.concurrency = plan.concurrency;
  r.read_ratio = plan.read_ratio;
  uint64_t total = 0;
  for (size_t k = 0; k < c.latency.size(); ++k) {
    const auto& h = c.latency[k];
    op_report o;
    o.count = h.count();
    o.errors = c.errors[k].load();
    o.p50_us = static_cast<double>(h.quantile(0.50)) / 1000.0;
    o.p90_us = static_cast<double>(h.quantile(0.90)) / 1000.0;
    o.p99_us = static_cast<double>(h.quantile(0.99)) / 1000.0;
    o.p999_us = static_cast<double>(h.quantile(0.999)) / 1000.0;
    o.max_us = static_cast<double>(h.max()) / 1000.0;
    total += o.count;
    r.operations[to_string(static_cast<sim_op_kind>(k))] = o;
  }
  for (size_t code = 0; code < c.errors_by_code.size(); ++code)
    if (auto n = c.errors_by_code[code].load(); n > 0)
      r.errors_by_code[std::string{to_string(static_cast<errc>(code))}] = n;
  r.duration_s = load_seconds;
  r.throughput_ops_s
    = load_seconds > 0 ? static_cast<double>(total) / load_seconds : 0;
  r.verified = c.verified.load();
  r.uncertain = c.uncertain.load();
  r.lost = c.lost.load();
  r.unexpected = c.unexpected.load();
  r.verify_errors = c.verify_errors.load();
  r.fields_written = c.fields_written.load();
  if (e) {
    auto redis = engine_redis_counters(*e);
    r.redis_round_trips = redis.round_trips;
    r.redis_commands = redis.commands;
    caf::scoped_actor self{engine_system(*e)};
    self->request(engine_router(*e), std::chrono::seconds{5}, stats_atom::value)
      .receive(
        [&](const router_stats& s) {
          r.live_session_actors = s.live_sessions;
          r.activations = s.activations;
          r.passivations = s.passivations;
        },
        [](caf::error&) {});
  }
  r.rss_bytes = current_rss_bytes();
  r.rss_growth_bytes = r.rss_bytes > rss_before ? r.rss_bytes - rss_before : 0;
  r.machine = machine_description();
  return r;
}

std::string render_text(const sim_report& r) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "\nauthstore sim report (seed " << r.seed << ", " << r.sessions
      << " sessions, concurrency " << r.concurrency << ", read ratio "
      << r.read_ratio << ")\nmachine: " << r.machine << "\n\n";
  out << "operation        count   errors    p50 us    p90 us    p99 us  "
         "p99.9 us    max us\n";
  for (const auto& [name, o] : r.operations)
    out << std::left << std::setw(12) << name << std::right << std::setw(10)
        << o.count << std::setw(9) << o.errors << std::setw(10) << o.p50_us
        << std::setw(10) << o.p90_us << std::setw(10) << o.p99_us
        << std::setw(10) << o.p999_us << std::setw(10) << o.max_us << '\n';
  out << "\nduration " << r.duration_s << " s (load phase), throughput "
      << std::setprecision(0) << r.throughput_ops_s << " ops/s\n";
  if (!r.errors_by_code.empty()) {
    out << "errors by code:";
    for (const auto& [code, n] : r.errors_by_code)
      out << ' ' << code << '=' << n;
    out << '\n';
  }
  if (!r.remote.empty())
    out << "remote node " << r.remote
        << ": Redis and actor figures are the server's (see its /metrics); "
           "RSS below is this client's\n";
  out << std::setprecision(2) << "redis: " << r.redis_round_trips
      << " round trips for " << r.redis_commands << " commands ("
      << (r.redis_round_trips ? static_cast<double>(r.redis_commands)
                                  / static_cast<double>(r.redis_round_trips)
                              : 0.0)
      << " commands per round trip, pipelining across sessions)\n";
  out << "actors: " << r.live_session_actors << " live session actors, "
      << r.activations << " activations, " << r.passivations
      << " passivations; RSS " << (r.rss_bytes >> 20) << " MiB (+"
      << (r.rss_growth_bytes >> 10) << " KiB during the run"
      << (r.live_session_actors
            ? ", " + std::to_string(r.rss_growth_bytes / r.live_session_actors)
                + " bytes per live session counting everything: the "
                  "simulator's model and buffers too; bench/ measures "
                  "idle actors alone"
            : std::string{})
      << ")\n";
  out << "cold store: none configured (Redis-only mode); coalescing and "
         "outbox figures need the cold path\n";
  out << "verification: " << r.verified << " fields checked, " << r.lost
      << " lost, " << r.unexpected << " unexpected, " << r.uncertain
      << " uncertain (a write to them failed), " << r.verify_errors
      << " read errors\n";
  return out.str();
}

json render_json(const sim_report& r) {
  json j;
  j["seed"] = r.seed;
  j["sessions"] = r.sessions;
  j["concurrency"] = r.concurrency;
  j["read_ratio"] = r.read_ratio;
  j["operations"] = json::object();
  for (const auto& [name, o] : r.operations)
    j["operations"][name] = {{"count", o.count},
                             {"errors", o.errors},
                             {"latency_us",
                              {{"p50", o.p50_us},
                               {"p90", o.p90_us},
                               {"p99", o.p99_us},
                               {"p999", o.p999_us},
                               {"max", o.max_us}}}};
  j["errors_by_code"] = json::object();
  for (const auto& [code, n] : r.errors_by_code)
    j["errors_by_code"][code] = n;
  j["duration_s"] = r.duration_s;
  j["throughput_ops_s"] = r.throughput_ops_s;
  j["lost"] = r.lost;
  j["unexpected"] = r.unexpected;
  j["verified"] = r.verified;
  j["uncertain"] = r.uncertain;
  j["verify_errors"] = r.verify_errors;
  j["fields_written"] = r.fields_written;
  j["redis"]
    = {{"round_trips", r.redis_round_trips}, {"commands", r.redis_commands}};
  j["actors"] = {{"live_sessions", r.live_session_actors},
                 {"activations", r.activations},
                 {"passivations", r.passivations}};
  j["rss_bytes"] = r.rss_bytes;
  j["rss_growth_bytes"] = r.rss_growth_bytes;
  j["cold_store"] = nullptr;
  j["machine"] = r.machine;
  j["remote"] = r.remote.empty() ? json(nullptr) : json(r.remote);
  return j;
}

} // namespace authstore
