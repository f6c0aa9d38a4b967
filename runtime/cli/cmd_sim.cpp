// cmd_sim.cpp -- `authstore sim`: the load simulation, the project's main
// job. Starts its own redis-server unless a Redis is configured, drives the
// sessions (sim_driver), prints live progress and a final report (text, and
// JSON with --json), and exits 1 when any acknowledged write was lost or an
// unexpected value was found.
//
// With a cold store (cold.uri) in-process, it also watches the outbox: the
// backlog is sampled every 250 ms from the load's start, the run waits (up
// to --drain-timeout-s after the load) for the backlog to empty, then every
// session's cold version is compared with its hot one. A backlog that does
// not drain, or a cold copy that differs from the hot one, is a failed run
// (exit 1) like a lost write. `--cold-server postgresql` starts a private
// PostgreSQL (runtime/sim/private_postgres.hpp) as that cold store, which
// the cold-pause and cold-kill faults act on (runtime/sim/faults.hpp); the
// cold store is prepared (schema, privileges) before the load starts.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "messages/codec.hpp"
#include "runtime/cli/cmd_common.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/http/endpoint.hpp"
#include "runtime/remote/client.hpp"
#include "runtime/sim/driver.hpp"
#include "runtime/sim/faults.hpp"
#include "runtime/sim/private_postgres.hpp"
#include "runtime/sim/private_redis.hpp"
#include "runtime/sim/report.hpp"

namespace authstore {

namespace {

template <class T>
bool parse_number(const std::string& text, T& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size();
}

/// Reads the sim options into `plan`; returns an error text or "".
std::string read_plan(const cli_args& args, sim_plan& plan) {
  auto num = [&](const char* name, auto& out, auto lo, auto hi) {
    if (!args.has(name))
      return std::string{};
    auto text = args.get(name, "");
    if (!parse_number(text, out) || out < lo || out > hi) {
      std::ostringstream msg;
      msg << "--" << name << " must be a whole number from " << lo << " to "
          << hi;
      return msg.str();
    }
    return std::string{};
  };
  std::string err;
  uint64_t duration = plan.duration.count();
  if (!(err = num("sessions", plan.sessions, size_t{1}, size_t{10000000}))
         .empty()
      || !(err
           = num("concurrency", plan.concurrency, size_t{1}, size_t{100000}))
            .empty()
      || !(err = num("ops", plan.ops, uint64_t{1}, uint64_t{1} << 40)).empty()
      || !(err = num("duration", duration, uint64_t{1}, uint64_t{86400}))
            .empty())
    return err;
  plan.duration = std::chrono::seconds{duration};
  plan.concurrency = std::min(plan.concurrency, plan.sessions);
  if (args.has("read-ratio")) {
    try {
      size_t used = 0;
      auto text = args.get("read-ratio", "");
      plan.read_ratio = std::stod(text, &used);
      if (used != text.size() || plan.read_ratio < 0 || plan.read_ratio > 1)
        return "--read-ratio must be a number from 0 to 1";
    } catch (...) {
      return "--read-ratio must be a number from 0 to 1";
    }
  }
  plan.seed = std::random_device{}();
  if (args.has("seed") && !parse_number(args.get("seed", ""), plan.seed))
    return "--seed must be a whole number";
  return {};
}

/// Time between outbox backlog samples.
constexpr std::chrono::milliseconds backlog_interval{250};

/// Reads --drain-timeout-s; returns an error text or "".
std::string read_drain_timeout(const cli_args& args, double& out) {
  constexpr uint64_t max_s = 86400;
  uint64_t v = 120;
  if (args.has("drain-timeout-s")
      && (!parse_number(args.get("drain-timeout-s", ""), v) || v > max_s))
    return "--drain-timeout-s must be a whole number from 0 to "
           + std::to_string(max_s);
  out = static_cast<double>(v);
  return {};
}

/// Prints one progress line (on a terminal, overwriting itself).
void progress(const sim_counters& c, double elapsed_s, bool tty,
              const backlog_sample* backlog) {
  uint64_t ops = c.total_ops();
  uint64_t p99 = 0;
  for (const auto& h : c.latency)
    p99 = std::max(p99, h.quantile(0.99));
  std::cerr << (tty ? "\r" : "") << "sim: " << std::fixed
            << std::setprecision(1) << elapsed_s << " s, " << ops << " ops, "
            << std::setprecision(0)
            << (elapsed_s > 0 ? static_cast<double>(ops) / elapsed_s : 0.0)
            << " ops/s, " << c.total_errors() << " errors, worst p99 "
            << std::setprecision(1) << static_cast<double>(p99) / 1000.0
            << " us";
  if (backlog)
    std::cerr << ", outbox " << backlog->sessions << " sessions/"
              << backlog->fields << " fields";
  std::cerr << (tty ? "   " : "\n") << std::flush;
}

} // namespace

int cmd_sim(const cli_args& args) {
  if (!args.positional.empty())
    return usage_error("sim",
                       "unexpected argument '" + args.positional[0] + "'");
  sim_plan plan;
  if (auto err = read_plan(args, plan); !err.empty())
    return usage_error("sim", err);
  plan.connect_burst = !args.has("no-connect-burst");
  double drain_timeout_s = 0;
  if (auto err = read_drain_timeout(args, drain_timeout_s); !err.empty())
    return usage_error("sim", err);
  std::vector<sim_fault> faults;
  if (auto err = parse_faults(args.get("fault", ""), faults); !err.empty())
    return usage_error("sim", err);
  bool any_kill = std::any_of(faults.begin(), faults.end(), [](auto& f) {
    return f.what == sim_fault::kind::redis_kill;
  });
  auto cfg = load_settings("sim", args);
  if (!cfg)
    return exit_usage;
  auto cold_server = args.get("cold-server", "");
  if (!cold_server.empty() && cold_server != "postgresql")
    return usage_error("sim", "--cold-server: only postgresql (a private "
                              "PostgreSQL 15) can be started, got '"
                                + cold_server + "'");
  if (!cold_server.empty() && !cfg->cold_store_uri().empty())
    return usage_error("sim", "--cold-server starts the cold store itself; "
                              "leave out cold.uri (--cold) and mongodb.uri");
  // With no Redis configured anywhere, the simulator brings its own.
  std::unique_ptr<private_redis> own_redis;
  bool redis_configured
    = args.config_flags.count("redis") || args.config_flags.count("redis.url")
      || std::getenv("AUTHSTORE_REDIS_URL") || args.config_flags.count("config")
      || std::getenv("AUTHSTORE_CONFIG");
  bool remote = args.has("connect");
  auto any = [&](auto pred) {
    return std::any_of(faults.begin(), faults.end(), pred);
  };
  if (remote && !faults.empty())
    return usage_error("sim", "--fault acts on the simulator's own "
                              "redis-server or in-process cold store; it "
                              "cannot act on a remote node");
  if (remote && !cold_server.empty())
    return usage_error("sim", "--cold-server is for an in-process engine; "
                              "with --connect the remote node has its own "
                              "cold store");
  if (any([](auto& f) { return f.what == sim_fault::kind::cold_open; })
      && cfg->cold_store_uri().empty() && cold_server.empty())
    return usage_error("sim", "--fault cold-open needs a cold store (--cold "
                              "URI or --cold-server postgresql)");
  if (any([](auto& f) { return f.on_cold_server(); }) && cold_server.empty())
    return usage_error("sim", "--fault cold-pause and cold-kill act on the "
                              "PostgreSQL the simulator starts: add "
                              "--cold-server postgresql");
  if (any([](auto& f) { return f.on_redis(); }) && redis_configured)
    return usage_error("sim", "--fault acts on the redis-server the "
                              "simulator starts; leave out --redis");
  if (!redis_configured && !remote) {
    // With a kill fault, acknowledged writes must survive the restart:
    // AOF with fsync on every write (invariant 1's "Redis restart with AOF").
    std::vector<std::string> aof;
    if (any_kill)
      aof = {"--appendonly", "yes", "--appendfsync", "always"};
    auto s
      = private_redis::start(args.get("redis-server", "redis-server"), aof);
    if (!s)
      return report_failure("sim", s.error());
    own_redis = std::move(*s);
    cfg->set("redis.url", own_redis->url(), "sim (own redis-server)");
    std::cerr << "sim: started redis-server pid " << own_redis->pid()
              << " on 127.0.0.1:" << own_redis->port() << '\n';
  }
  // With --cold-server, the simulator's own PostgreSQL: durable (fsync,
  // full_page_writes), so a cold-kill fault exercises real crash recovery.
  std::unique_ptr<private_postgres> own_postgres;
  if (!cold_server.empty()) {
    private_postgres_options po;
    po.fsync = true;
    po.bin_dir = args.get("postgres-bin", po.bin_dir);
    own_postgres = std::make_unique<private_postgres>(po);
    if (!own_postgres->start())
      return report_failure(
        "sim", {errc::cold_unavailable,
                "could not start PostgreSQL: " + own_postgres->last_error()});
    cfg->set("cold.uri", own_postgres->uri(), "sim (own PostgreSQL)");
    std::cerr << "sim: started PostgreSQL pid " << own_postgres->pid()
              << " on 127.0.0.1:" << own_postgres->port() << " (fsync on)\n";
  }
  // The cold store is made ready (schema, privileges, a writable server)
  // before the first session is simulated, as `authstore serve` does.
  if (!remote && !cfg->cold_store_uri().empty()) {
    auto ready = prepare_cold_store(*cfg, cold_prepare::as_configured);
    if (!ready)
      return report_failure("sim", ready.error());
    std::cerr << "sim: cold store " << ready->backend << " at " << ready->target
              << ": " << ready->detail << '\n';
  }
  std::cerr << "sim: seed " << plan.seed << ", " << plan.sessions
            << " sessions, concurrency " << plan.concurrency << ", "
            << (plan.ops ? std::to_string(plan.ops) + " steady ops"
                         : std::to_string(plan.duration.count()) + " s")
            << ", read ratio " << plan.read_ratio << ", "
            << (remote ? "remote node " + args.get("connect", "")
                       : "redis " + redact_url(cfg->redis_url()))
            << '\n';
  sim_report report;
  {
    // In-process (an engine here) or remote (the client library against
    // `authstore serve`): the drivers are the same actors either way.
    std::unique_ptr<engine> eng;
    std::unique_ptr<http_front> ops; // destroyed before eng
    std::vector<std::unique_ptr<remote_client>> clients;
    if (remote) {
      // HOST:PORT[,HOST:PORT...]: several nodes of one cluster share the
      // sessions (start_sim_drivers).
      auto list = args.get("connect", "");
      for (size_t pos = 0; pos <= list.size();) {
        auto comma = list.find(',', pos);
        if (comma == std::string::npos)
          comma = list.size();
        auto ep = parse_endpoint(list.substr(pos, comma - pos));
        if (!ep)
          return usage_error("sim", ep.error().render());
        auto opts = remote_options::from(*cfg);
        if (!opts)
          return report_failure("sim", opts.error());
        auto c
          = remote_client::connect(ep->first, ep->second, std::move(*opts));
        if (!c)
          return report_failure("sim", c.error());
        clients.push_back(std::move(*c));
        pos = comma + 1;
      }
    } else {
      auto e = engine::start(*cfg);
      if (!e)
        return report_failure("sim", e.error());
      eng = std::move(*e);
      auto h = start_ops_http(*eng);
      if (!h)
        return report_failure("sim", h.error());
      ops = std::move(*h);
    }
    // Null without a cold store: then nothing below changes.
    auto watch = eng ? outbox_watch::start(*eng) : nullptr;
    auto counters = std::make_unique<sim_counters>();
    auto rss_before = current_rss_bytes();
    auto start = std::chrono::steady_clock::now();
    if (!clients.empty()) {
      std::vector<remote_client*> cs;
      for (auto& c : clients)
        cs.push_back(c.get());
      start_sim_drivers(cs, plan, *counters);
    } else
      start_sim_drivers(*eng, plan, *counters);
    bool tty = ::isatty(STDERR_FILENO) && !args.has("quiet");
    auto last_print = start;
    auto last_sample = start - backlog_interval;
    auto take_sample = [&](std::chrono::steady_clock::time_point now) {
      if (!watch || now - last_sample < backlog_interval)
        return;
      last_sample = now;
      watch->sample(std::chrono::duration<double>(now - start).count());
    };
    double load_seconds = 0;
    fault_targets targets{own_redis.get(), own_postgres.get(), eng.get()};
    // The start of each phase reached (before, during, after the faults).
    std::vector<double> phase_starts;
    if (!faults.empty())
      phase_starts.push_back(0);
    while (counters->drivers_done.load() < plan.concurrency) {
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
      auto now = std::chrono::steady_clock::now();
      take_sample(now);
      std::chrono::duration<double> elapsed = now - start;
      if (load_seconds == 0 && counters->steady_done.load() == plan.concurrency)
        load_seconds = elapsed.count();
      auto phase = run_faults(faults, targets, elapsed.count());
      if (!faults.empty() && load_seconds == 0) {
        while (phase_starts.size() <= static_cast<size_t>(phase))
          phase_starts.push_back(elapsed.count());
        counters->phase = static_cast<uint8_t>(phase);
      }
      if (!args.has("quiet") && now - last_print >= std::chrono::seconds{1}) {
        progress(*counters, elapsed.count(), tty,
                 watch ? watch->latest() : nullptr);
        last_print = now;
      }
    }
    if (load_seconds == 0)
      load_seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
    if (tty)
      std::cerr << '\n';
    // Faults still active when the drivers finished end now, so the drain
    // and the verification see the servers back.
    end_active_faults(faults, targets);
    if (watch && watch->backlog_available()) {
      // The drain: until a sample after the load's end reads empty.
      auto deadline
        = start
          + std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::duration<double>(load_seconds + drain_timeout_s));
      while (!watch->drained_after(load_seconds)) {
        auto now = std::chrono::steady_clock::now();
        if (now > deadline)
          break;
        std::this_thread::sleep_until(last_sample + backlog_interval);
        now = std::chrono::steady_clock::now();
        take_sample(now);
        if (!args.has("quiet") && now - last_print >= std::chrono::seconds{1}) {
          if (const auto* b = watch->latest())
            std::cerr << "sim: draining the outbox, "
                      << std::chrono::duration<double>(now - start).count()
                      << " s: " << b->sessions << " sessions, " << b->fields
                      << " fields\n";
          last_print = now;
        }
      }
    }
    report = make_sim_report(eng.get(), plan, *counters, load_seconds,
                             rss_before, phase_starts);
    if (watch)
      report.outbox = watch->finish(plan, load_seconds, drain_timeout_s);
    if (!clients.empty())
      report.remote = args.get("connect", "");
  }
  std::cout << render_text(report);
  if (args.has("json")) {
    std::ofstream out{args.get("json", "")};
    out << render_json(report).dump(2) << '\n';
    if (!out)
      return report_failure("sim",
                            {errc::internal, "cannot write --json file"});
  }
  bool failed = false;
  if (report.lost > 0 || report.unexpected > 0) {
    std::cerr << "sim: FAILED verification: " << report.lost << " lost, "
              << report.unexpected << " unexpected\n";
    failed = true;
  }
  const auto& o = report.outbox;
  if (o.configured && o.backlog_available && !o.drained) {
    std::cerr << "sim: FAILED: the outbox did not drain within "
              << drain_timeout_s << " s of the load's end (" << o.last.sessions
              << " sessions, " << o.last.fields << " fields remain)\n";
    failed = true;
  }
  if (o.configured && o.cold_mismatched > 0) {
    std::cerr << "sim: FAILED: " << o.cold_mismatched
              << " sessions differ between the cold and the hot store\n";
    failed = true;
  }
  if (o.configured && o.cold_errors > 0)
    std::cerr << "sim: warning: " << o.cold_errors
              << " sessions could not be read back for the cold == hot "
                 "check\n";
  if (failed)
    return exit_failed;
  return exit_ok;
}

} // namespace authstore
