// report.cpp -- see sim_report.hpp.
#include "runtime/sim/report.hpp"

#include <caf/all.hpp>
#include <deque>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

#include "runtime/engine/engine_actors.hpp"
#include "runtime/engine/metrics.hpp"
#include "runtime/sim/driver.hpp"
#include "runtime/sim/faults.hpp"

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

// -- outbox_watch ------------------------------------------------------------

/// Loads in flight against the cold supervisor: its worker is one thread,
/// so a deeper queue only adds waiting (and risks its call timeout).
constexpr size_t cold_window = 64;
/// Hot reads in flight through the router.
constexpr size_t hot_window = 256;
/// Bound on one verification call (the supervisor applies its own call
/// timeout inside; this only guards against a lost reply).
constexpr std::chrono::seconds verify_timeout{30};
/// Reads that failed (the breaker open or half-open after an outage, or
/// tripped by a slow cold store while the backlog drained) are read again
/// after this pause, pass after pass, until they succeed or
/// verify_deadline has passed since the check began: the check is about
/// equality, and the breaker's own counters report availability.
constexpr std::chrono::seconds retry_pause{2};
constexpr std::chrono::seconds verify_deadline{30};
constexpr size_t max_mismatch_examples = 5;

/// Sends `send(i)` for i in [0, n) with at most `window` replies pending,
/// receiving them in order: a scoped actor receives a response by its
/// message id and leaves the other replies queued.
template <class Reply, class Send, class OnReply, class OnError>
void windowed(size_t n, size_t window, Send send, OnReply on_reply,
              OnError on_error) {
  using handle = decltype(send(size_t{0}));
  std::deque<std::pair<size_t, handle>> pending;
  size_t next = 0;
  while (next < n || !pending.empty()) {
    while (next < n && pending.size() < window) {
      pending.emplace_back(next, send(next));
      ++next;
    }
    auto [i, h] = std::move(pending.front());
    pending.pop_front();
    h.receive([&, i = i](Reply& reply) { on_reply(i, reply); },
              [&, i = i](caf::error& err) { on_error(i, err); });
  }
}

double micros(const latency_histogram& h, double q) {
  return h.count() ? static_cast<double>(h.quantile(q)) / 1000.0 : 0.0;
}

class engine_outbox_watch final : public outbox_watch {
public:
  explicit engine_outbox_watch(engine& e) : e_(e) {
    // The first read tells whether the backlog is readable at all.
    available_ = static_cast<bool>(engine_outbox_backlog(e_));
  }

  bool sample(double t_s) override {
    if (!available_)
      return false;
    auto b = engine_outbox_backlog(e_);
    if (!b) {
      ++errors_;
      return false;
    }
    timeline_.push_back({t_s, b->sessions, b->fields});
    quarantined_ = b->quarantined;
    return true;
  }

  const backlog_sample* latest() const override {
    return timeline_.empty() ? nullptr : &timeline_.back();
  }

  bool backlog_available() const override { return available_; }

  bool drained_after(double load_end_s) const override {
    return first_zero(load_end_s) != nullptr;
  }

  outbox_report finish(const sim_plan& plan, double load_end_s,
                       double drain_timeout_s) override {
    outbox_report r;
    r.configured = true;
    r.backlog_available = available_;
    fill_counters(r);
    r.load_end_s = load_end_s;
    r.drain_timeout_s = drain_timeout_s;
    r.sample_errors = errors_;
    r.quarantined = quarantined_;
    r.timeline = timeline_;
    fill_backlog(r, load_end_s);
    fill_store(r);
    auto t0 = std::chrono::steady_clock::now();
    verify_cold(plan, r);
    r.verify_seconds
      = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
          .count();
    return r;
  }

private:
  const backlog_sample* first_zero(double from_s) const {
    for (const auto& s : timeline_)
      if (s.t_s >= from_s && s.sessions == 0 && s.fields == 0)
        return &s;
    return nullptr;
  }

  /// The backend, how often the circuit opened, and the store's failures
  /// by its own kinds.
  void fill_store(outbox_report& r) const {
    cold_status st;
    if (engine_cold_status(e_, st)) {
      r.backend = st.backend;
      constexpr size_t n = 5; // breaker states (cold_status::transitions)
      auto open = static_cast<size_t>(breaker_state::open);
      for (size_t from = 0; from < n; ++from)
        if (from != open && from * n + open < st.transitions.size())
          r.breaker_opened += st.transitions[from * n + open];
    }
    auto names = cold_error_kind_names(r.backend);
    const auto& c = engine_counts(e_).cold_store;
    for (size_t k = 1; k < names.size() && k < c.failures.size(); ++k)
      if (auto v = c.failures[k].load(std::memory_order_relaxed); v > 0)
        r.store_errors_by_kind[names[k]] = v;
  }

  void fill_counters(outbox_report& r) const {
    const auto& o = engine_counts(e_).outbox;
    auto live = static_cast<size_t>(persist_path::live);
    auto rec = static_cast<size_t>(persist_path::reconciler);
    r.dirty_writes = o.dirty_writes.load(std::memory_order_relaxed);
    r.persists_live = o.persists[live].load(std::memory_order_relaxed);
    r.persists_reconciler = o.persists[rec].load(std::memory_order_relaxed);
    r.marks_cleared = o.marks_cleared.load(std::memory_order_relaxed);
    auto persists = r.persists_live + r.persists_reconciler;
    r.coalescing_ratio = persists ? static_cast<double>(r.dirty_writes)
                                      / static_cast<double>(persists)
                                  : 0.0;
    for (const auto& by_code : o.failures)
      for (size_t code = 0; code < by_code.size(); ++code)
        if (auto n = by_code[code].load(std::memory_order_relaxed); n > 0) {
          r.persist_failures += n;
          r.failures_by_code[std::string{to_string(static_cast<errc>(code))}]
            += n;
        }
    r.live_p50_us = micros(o.latency[live], 0.50);
    r.live_p99_us = micros(o.latency[live], 0.99);
    r.reconciler_p50_us = micros(o.latency[rec], 0.50);
    r.reconciler_p99_us = micros(o.latency[rec], 0.99);
    r.ticks = o.ticks.load(std::memory_order_relaxed);
    r.ticks_cold_open = o.ticks_cold_open.load(std::memory_order_relaxed);
    const auto& s = engine_counts(e_).sessions;
    for (size_t i = 0; i < read_through_result::count; ++i)
      r.read_through[read_through_label(i)]
        = s.read_through[i].load(std::memory_order_relaxed);
    r.cold_reads = s.cold_hits.load(std::memory_order_relaxed);
  }

  void fill_backlog(outbox_report& r, double load_end_s) const {
    if (timeline_.empty())
      return;
    const backlog_sample* peak = &timeline_.front();
    for (const auto& s : timeline_) {
      if (s.fields > peak->fields)
        peak = &s;
      r.peak_sessions_max = std::max(r.peak_sessions_max, s.sessions);
      if (s.t_s >= load_end_s && r.at_load_end.t_s < load_end_s)
        r.at_load_end = s;
    }
    r.peak = *peak;
    r.last = timeline_.back();
    if (const auto* zero = first_zero(load_end_s)) {
      r.drained = true;
      r.drain_seconds = zero->t_s - load_end_s;
    }
    if (peak->fields > 0)
      if (const auto* zero = first_zero(peak->t_s)) {
        r.peak_to_zero_s = zero->t_s - peak->t_s;
        r.drain_fields_per_s
          = static_cast<double>(peak->fields) / r.peak_to_zero_s;
        r.drain_sessions_per_s
          = static_cast<double>(peak->sessions) / r.peak_to_zero_s;
      }
  }

  /// Compares each session's cold version (the supervisor's load) with its
  /// hot one (get_creds through the router); a failed read on either side
  /// is retried after a pause until verify_deadline, then counted as an
  /// error.
  void verify_cold(const sim_plan& plan, outbox_report& r) {
    size_t n = plan.sessions;
    std::vector<uint64_t> hot(n, 0);
    std::vector<char> hot_ok(n, 0);
    std::vector<char> cold_ok(n, 0);
    // Only the version is kept: the fields of a million sessions would not
    // fit next to the engine.
    std::vector<uint64_t> cold_version(n, 0);
    std::vector<char> cold_found(n, 0);
    caf::scoped_actor self{engine_system(e_)};
    auto router = engine_router(e_);
    auto cold_actor = engine_cold(e_);
    auto deadline = std::chrono::steady_clock::now() + verify_deadline;
    for (int pass = 0;; ++pass) {
      std::vector<size_t> todo;
      for (size_t i = 0; i < n; ++i)
        if (!hot_ok[i] || !cold_ok[i])
          todo.push_back(i);
      if (todo.empty())
        break;
      if (pass > 0) {
        if (std::chrono::steady_clock::now() + retry_pause > deadline)
          break;
        std::this_thread::sleep_for(retry_pause);
      }
      r.verify_passes = pass + 1;
      windowed<creds_reply>(
        todo.size(), hot_window,
        [&](size_t k) {
          return self->request(router, verify_timeout, get_creds_atom::value,
                               sim_session_id(plan, todo[k]));
        },
        [&](size_t k, creds_reply& c) {
          hot[todo[k]] = c.version;
          hot_ok[todo[k]] = 1;
        },
        [&](size_t, caf::error&) {});
      windowed<session_snapshot>(
        todo.size(), cold_window,
        [&](size_t k) {
          return self->request(cold_actor, verify_timeout, load_atom::value,
                               sim_session_id(plan, todo[k]));
        },
        [&](size_t k, session_snapshot& s) {
          cold_version[todo[k]] = s.found ? s.version : 0;
          cold_found[todo[k]] = s.found ? 1 : 0;
          cold_ok[todo[k]] = 1;
        },
        [&](size_t, caf::error&) {});
    }
    for (size_t i = 0; i < n; ++i) {
      if (!hot_ok[i] || !cold_ok[i]) {
        ++r.cold_errors;
        continue;
      }
      // A session the cold store has not got reads found=false; it matches
      // only a session the hot store has not got either.
      if (cold_version[i] == hot[i]) {
        ++r.cold_verified;
        continue;
      }
      ++r.cold_mismatched;
      if (r.mismatch_examples.size() < max_mismatch_examples)
        r.mismatch_examples.push_back(
          sim_session_id(plan, i) + ": cold "
          + (cold_found[i] ? std::to_string(cold_version[i]) : "absent")
          + ", hot " + std::to_string(hot[i]));
    }
  }

  engine& e_;
  bool available_ = false;
  uint64_t errors_ = 0;
  uint64_t quarantined_ = 0;
  std::vector<backlog_sample> timeline_;
};

} // namespace

std::unique_ptr<outbox_watch> outbox_watch::start(engine& e) {
  if (!engine_cold(e))
    return nullptr;
  return std::make_unique<engine_outbox_watch>(e);
}

namespace {

op_report summarize(const latency_histogram& h, uint64_t errors) {
  op_report o;
  o.count = h.count();
  o.errors = errors;
  o.p50_us = static_cast<double>(h.quantile(0.50)) / 1000.0;
  o.p90_us = static_cast<double>(h.quantile(0.90)) / 1000.0;
  o.p99_us = static_cast<double>(h.quantile(0.99)) / 1000.0;
  o.p999_us = static_cast<double>(h.quantile(0.999)) / 1000.0;
  o.max_us = static_cast<double>(h.max()) / 1000.0;
  return o;
}

} // namespace

sim_report make_sim_report(engine* e, const sim_plan& plan,
                           const sim_counters& c, double load_seconds,
                           uint64_t rss_before,
                           const std::vector<double>& phase_starts) {
  sim_report r;
  r.seed = plan.seed;
  r.sessions = plan.sessions;
  r.concurrency = plan.concurrency;
  r.read_ratio = plan.read_ratio;
  uint64_t total = 0;
  for (size_t k = 0; k < c.latency.size(); ++k) {
    auto o = summarize(c.latency[k], c.errors[k].load());
    total += o.count;
    r.operations[to_string(static_cast<sim_op_kind>(k))] = o;
  }
  // Errors are not split by phase: a phase's count is its latency samples.
  for (size_t p = 0; p < phase_starts.size() && p < sim_phase_count; ++p) {
    phase_report ph;
    ph.name = to_string(static_cast<sim_phase>(p));
    ph.from_s = phase_starts[p];
    ph.to_s = p + 1 < phase_starts.size() ? phase_starts[p + 1] : load_seconds;
    for (size_t k = 0; k < c.latency.size(); ++k)
      ph.operations[to_string(static_cast<sim_op_kind>(k))]
        = summarize(c.phase_latency[p][k], 0);
    r.phases.push_back(std::move(ph));
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

namespace {

std::string render_outbox_text(const sim_report& r) {
  const auto& o = r.outbox;
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "cold store (outbox):";
  if (!o.configured) {
    out << (r.remote.empty() ? " no cold store configured (Redis-only mode)"
                             : " the remote node's (see its /metrics)")
        << '\n';
    return out.str();
  }
  out << "\n  " << o.dirty_writes << " dirty writes, "
      << o.persists_live + o.persists_reconciler << " persists ("
      << o.persists_live << " live, " << o.persists_reconciler
      << " reconciler): " << std::setprecision(2) << o.coalescing_ratio
      << " writes per persist, " << o.marks_cleared << " fields cleared; "
      << o.persist_failures << " failed";
  for (const auto& [code, n] : o.failures_by_code)
    out << ' ' << code << '=' << n;
  out << std::setprecision(1) << "\n  persist latency p50/p99: live "
      << o.live_p50_us / 1000.0 << '/' << o.live_p99_us / 1000.0
      << " ms, reconciler " << o.reconciler_p50_us / 1000.0 << '/'
      << o.reconciler_p99_us / 1000.0 << " ms; reconciler " << o.ticks
      << " ticks (" << o.ticks_cold_open << " with the circuit open)\n";
  out << "  read-through (sessions Redis did not know):";
  for (const auto& [result, n] : o.read_through)
    out << ' ' << result << '=' << n;
  out << "; " << o.cold_reads << " reads answered after a load\n";
  if (!o.backlog_available) {
    out << "  backlog: not readable (outbox.reconcile off): no timeline, "
           "no drain wait\n";
  } else {
    out << "  backlog peak " << o.peak.fields << " fields in "
        << o.peak.sessions << " sessions at " << o.peak.t_s
        << " s (most sessions " << o.peak_sessions_max << "); at load end ("
        << o.load_end_s << " s) " << o.at_load_end.fields << " fields in "
        << o.at_load_end.sessions << " sessions; " << o.timeline.size()
        << " samples, " << o.sample_errors << " failed\n  ";
    if (o.drained)
      out << "drained " << std::setprecision(2) << o.drain_seconds
          << " s after the load ended";
    else
      out << "NOT DRAINED within " << std::setprecision(0) << o.drain_timeout_s
          << " s of the load's end: " << o.last.fields << " fields in "
          << o.last.sessions << " sessions remain";
    if (o.quarantined)
      out << "; " << o.quarantined << " sessions quarantined";
    out << std::setprecision(0);
    if (o.peak_to_zero_s > 0)
      out << "; drain rate " << o.drain_fields_per_s << " fields/s, "
          << o.drain_sessions_per_s << " sessions/s (peak to empty in "
          << std::setprecision(2) << o.peak_to_zero_s << " s)";
    out << '\n';
  }
  out << "  backend " << (o.backend.empty() ? "unknown" : o.backend)
      << ": circuit opened " << o.breaker_opened << " times; store failures "
      << "by kind:";
  for (const auto& [kind, n] : o.store_errors_by_kind)
    out << ' ' << kind << '=' << n;
  if (o.store_errors_by_kind.empty())
    out << " none";
  out << '\n';
  out << std::setprecision(1) << "  cold == hot: " << o.cold_verified
      << " sessions match, " << o.cold_mismatched << " mismatched, "
      << o.cold_errors << " read errors (" << o.verify_seconds << " s, "
      << o.verify_passes << (o.verify_passes == 1 ? " pass" : " passes")
      << ")\n";
  for (const auto& m : o.mismatch_examples)
    out << "    mismatch " << m << '\n';
  return out.str();
}

json outbox_json(const outbox_report& o) {
  if (!o.configured)
    return nullptr;
  auto sample = [](const backlog_sample& s) {
    return json{{"t_s", s.t_s}, {"sessions", s.sessions}, {"fields", s.fields}};
  };
  json timeline = json::array();
  for (const auto& s : o.timeline)
    timeline.push_back(sample(s));
  json failures = json::object();
  for (const auto& [code, n] : o.failures_by_code)
    failures[code] = n;
  json j;
  j["dirty_writes"] = o.dirty_writes;
  j["persists_live"] = o.persists_live;
  j["persists_reconciler"] = o.persists_reconciler;
  j["coalescing_ratio"] = o.coalescing_ratio;
  j["marks_cleared"] = o.marks_cleared;
  j["persist_failures"] = o.persist_failures;
  j["persist_failures_by_code"] = failures;
  j["persist_latency_us"]
    = {{"live", {{"p50", o.live_p50_us}, {"p99", o.live_p99_us}}},
       {"reconciler",
        {{"p50", o.reconciler_p50_us}, {"p99", o.reconciler_p99_us}}}};
  j["read_through"] = o.read_through;
  j["cold_reads"] = o.cold_reads;
  j["reconciler_ticks"] = o.ticks;
  j["reconciler_ticks_cold_open"] = o.ticks_cold_open;
  j["backlog_available"] = o.backlog_available;
  j["backlog_peak"] = sample(o.peak);
  j["backlog_peak_sessions_max"] = o.peak_sessions_max;
  j["backlog_at_load_end"] = sample(o.at_load_end);
  j["load_end_s"] = o.load_end_s;
  j["drained"] = o.drained;
  j["drain_seconds"] = o.drained ? json(o.drain_seconds) : json(nullptr);
  j["drain_timeout_s"] = o.drain_timeout_s;
  j["backlog_remaining"] = o.drained ? json(nullptr) : sample(o.last);
  j["quarantined"] = o.quarantined;
  j["drain_rate"] = o.peak_to_zero_s > 0
                      ? json{{"fields_per_s", o.drain_fields_per_s},
                             {"sessions_per_s", o.drain_sessions_per_s},
                             {"peak_to_zero_s", o.peak_to_zero_s}}
                      : json(nullptr);
  j["sample_errors"] = o.sample_errors;
  j["timeline"] = timeline;
  j["cold_verified"] = o.cold_verified;
  j["cold_mismatched"] = o.cold_mismatched;
  j["cold_errors"] = o.cold_errors;
  j["cold_mismatch_examples"] = o.mismatch_examples;
  j["cold_verify_seconds"] = o.verify_seconds;
  j["cold_verify_passes"] = o.verify_passes;
  j["backend"] = o.backend;
  j["breaker_opened"] = o.breaker_opened;
  j["store_errors_by_kind"] = o.store_errors_by_kind;
  return j;
}

} // namespace

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
  for (const auto& ph : r.phases) {
    out << "phase " << ph.name << " (" << std::setprecision(1) << ph.from_s
        << " s to " << ph.to_s << " s):";
    for (const auto& [name, o] : ph.operations)
      out << ' ' << name << " n=" << o.count << " p50 " << o.p50_us
          << " us p99 " << o.p99_us << " us;";
    out << '\n';
  }
  out << render_outbox_text(r);
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
  j["cold_store"] = outbox_json(r.outbox);
  j["phases"] = json::array();
  for (const auto& ph : r.phases) {
    json ops = json::object();
    for (const auto& [name, o] : ph.operations)
      ops[name] = {{"count", o.count},
                   {"latency_us",
                    {{"p50", o.p50_us},
                     {"p90", o.p90_us},
                     {"p99", o.p99_us},
                     {"p999", o.p999_us},
                     {"max", o.max_us}}}};
    j["phases"].push_back({{"name", ph.name},
                           {"from_s", ph.from_s},
                           {"to_s", ph.to_s},
                           {"operations", ops}});
  }
  j["machine"] = r.machine;
  j["remote"] = r.remote.empty() ? json(nullptr) : json(r.remote);
  return j;
}

} // namespace authstore
