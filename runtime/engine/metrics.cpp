// metrics.cpp -- see metrics.hpp.
#include "runtime/engine/metrics.hpp"

#include <chrono>
#include <dirent.h>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <unistd.h>

#include "messages/breaker_state.hpp"
#include "messages/interfaces.hpp"
#include "mongo/error.hpp"
#include "observe/build_info.hpp"
#include "observe/log_limit.hpp"
#include "postgres/error.hpp"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

namespace authstore {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

/// Upper bounds of exported latency buckets, in seconds.
constexpr double latency_bounds[]
  = {0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
     0.025,    0.05,    0.1,    0.25,    0.5,    1.0,   2.5,    5.0,   10.0};

/// Upper bounds of exported pipeline-size buckets, in requests.
constexpr double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

/// Errors a Redis request can fail with (the `kind` label).
constexpr errc redis_error_kinds[]
  = {errc::hot_unavailable, errc::hot_out_of_memory, errc::hot_error,
     errc::shutting_down};

MetricFamily family(const char* name, const char* help, MetricType type) {
  MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  return f;
}

ClientMetric scalar(double value, MetricType type,
                    std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  return m;
}

/// Converts a latency_histogram to a Prometheus histogram with `bounds`
/// (in `unit`s of the histogram's ns).
template <size_t N>
ClientMetric histogram(const latency_histogram& h, const double (&bounds)[N],
                       double unit, std::vector<ClientMetric::Label> labels) {
  ClientMetric m;
  m.label = std::move(labels);
  m.histogram.sample_count = h.count();
  m.histogram.sample_sum = static_cast<double>(h.sum()) / unit;
  for (double b : bounds)
    m.histogram.bucket.push_back(
      {h.count_at_most(static_cast<uint64_t>(b * unit)), b});
  m.histogram.bucket.push_back(
    {h.count(), std::numeric_limits<double>::infinity()});
  return m;
}

/// A family of one unlabelled sample.
void single(std::vector<MetricFamily>& out, const char* name, const char* help,
            MetricType type, double value) {
  auto f = family(name, help, type);
  f.metric.push_back(scalar(value, type));
  out.push_back(std::move(f));
}

double load(const std::atomic<uint64_t>& x) {
  return static_cast<double>(x.load(std::memory_order_relaxed));
}

double load(const std::atomic<int64_t>& x) {
  return static_cast<double>(x.load(std::memory_order_relaxed));
}

/// `labels` with `first` in front.
std::vector<ClientMetric::Label>
labelled(const std::vector<ClientMetric::Label>& first,
         std::vector<ClientMetric::Label> labels) {
  labels.insert(labels.begin(), first.begin(), first.end());
  return labels;
}

/// A counter by (op, result) and a latency histogram by op, from
/// op_counters. `not_found` adds that result (reads of nothing); `base`
/// labels come first on every series.
template <class Op, size_t N>
void op_families(const op_counters<Op, N>& c, bool not_found,
                 const char* ops_name, const char* ops_help,
                 const char* lat_name, const char* lat_help,
                 std::vector<MetricFamily>& out,
                 const std::vector<ClientMetric::Label>& base = {}) {
  auto ops = family(ops_name, ops_help, MetricType::Counter);
  auto lat = family(lat_name, lat_help, MetricType::Histogram);
  size_t n_errc = 0;
  const auto* codes = all_errcs(n_errc);
  for (size_t i = 0; i < N; ++i) {
    std::string op = to_string(static_cast<Op>(i));
    auto add = [&](const std::string& result, size_t slot) {
      ops.metric.push_back(
        scalar(load(c.results[i][slot]), MetricType::Counter,
               labelled(base, {{"op", op}, {"result", result}})));
    };
    add("ok", op_result::ok);
    if (not_found)
      add("not_found", op_result::not_found);
    for (size_t k = 0; k < n_errc; ++k)
      add(std::string{to_string(codes[k])}, op_result::of(codes[k]));
    lat.metric.push_back(histogram(c.latency[i], latency_bounds, 1e9,
                                   labelled(base, {{"op", op}})));
  }
  out.push_back(std::move(ops));
  out.push_back(std::move(lat));
}

void operation_families(const session_counters& s,
                        std::vector<MetricFamily>& out) {
  op_families(s.ops, true, "authstore_operations_total",
              "Operations finished, by operation and result (ok, "
              "not_found = a successful read of nothing, or an error "
              "code). A rise in hot_unavailable means Redis is down.",
              "authstore_operation_duration_seconds",
              "Time from a request reaching its session actor to its "
              "reply, by operation.",
              out);
  auto reads = family("authstore_reads_total",
                      "Session reads by where they were answered: cache "
                      "(the session actor), redis, cold (Redis had to load "
                      "the session from the cold store first), miss "
                      "(nothing found). Creds and key reads.",
                      MetricType::Counter);
  reads.metric.push_back(
    scalar(load(s.cache_hits), MetricType::Counter, {{"source", "cache"}}));
  reads.metric.push_back(
    scalar(load(s.redis_hits), MetricType::Counter, {{"source", "redis"}}));
  reads.metric.push_back(
    scalar(load(s.cold_hits), MetricType::Counter, {{"source", "cold"}}));
  reads.metric.push_back(
    scalar(load(s.misses), MetricType::Counter, {{"source", "miss"}}));
  out.push_back(std::move(reads));
  auto warms = family("authstore_read_through_total",
                      "Sessions Redis had no trace of, loaded from the cold "
                      "store, by result: loaded, absent (the cold store "
                      "lacks it too; Redis keeps a tombstone), raced (Redis "
                      "got it meanwhile), failed (the callers got the cold "
                      "store's error, never 'not found').",
                      MetricType::Counter);
  for (size_t i = 0; i < read_through_result::count; ++i)
    warms.metric.push_back(scalar(load(s.read_through[i]), MetricType::Counter,
                                  {{"result", read_through_label(i)}}));
  out.push_back(std::move(warms));
  auto live = family("authstore_session_actors",
                     "Live session actors (bounded by session.max-live).",
                     MetricType::Gauge);
  live.metric.push_back(scalar(load(s.live_actors), MetricType::Gauge));
  out.push_back(std::move(live));
  auto act = family("authstore_session_activations_total",
                    "Session actors spawned (first message for an id, or "
                    "again after passivation).",
                    MetricType::Counter);
  act.metric.push_back(scalar(load(s.activations), MetricType::Counter));
  out.push_back(std::move(act));
  auto pas = family("authstore_session_passivations_total",
                    "Session actors stopped for idleness or the live cap.",
                    MetricType::Counter);
  pas.metric.push_back(scalar(load(s.passivations), MetricType::Counter));
  out.push_back(std::move(pas));
}

void redis_families(const redis_counters& r, std::vector<MetricFamily>& out) {
  auto simple
    = [&](const char* name, const char* help, MetricType type, double value) {
        auto f = family(name, help, type);
        f.metric.push_back(scalar(value, type));
        out.push_back(std::move(f));
      };
  simple("authstore_redis_round_trips_total",
         "Pipelines sent to Redis (one round trip each).", MetricType::Counter,
         load(r.round_trips));
  simple("authstore_redis_commands_total",
         "Commands sent to Redis; divided by round trips it is the average "
         "pipeline size (group commit across sessions).",
         MetricType::Counter, load(r.commands));
  simple("authstore_redis_reconnects_total",
         "Reconnections to Redis after a lost connection.", MetricType::Counter,
         load(r.reconnects));
  simple("authstore_redis_script_reloads_total",
         "Lua scripts reloaded after NOSCRIPT (SCRIPT FLUSH behind our back).",
         MetricType::Counter, load(r.script_reloads));
  simple("authstore_redis_queued_requests",
         "Requests waiting in the Redis actors' queues (sampled mailbox "
         "depth); growing means Redis cannot keep up.",
         MetricType::Gauge, load(r.queued));
  auto batch
    = family("authstore_redis_pipeline_requests",
             "Requests per pipeline (round trip).", MetricType::Histogram);
  batch.metric.push_back(histogram(r.batch_sizes, batch_bounds, 1.0, {}));
  out.push_back(std::move(batch));
  auto errors = family("authstore_redis_errors_total",
                       "Failed Redis requests by kind.", MetricType::Counter);
  for (auto kind : redis_error_kinds)
    errors.metric.push_back(scalar(load(r.errors[errc_slot(kind)]),
                                   MetricType::Counter,
                                   {{"kind", std::string{to_string(kind)}}}));
  out.push_back(std::move(errors));
}

/// The `backend` label of every cold family: the store's backend()
/// ("mongodb", "postgresql"), "none" without a cold store (or when the
/// supervisor did not answer). One closed value per backend, never per
/// session.
std::vector<ClientMetric::Label> backend_label(const cold_status* cold) {
  std::string name = !cold                   ? "none"
                     : cold->backend.empty() ? "unknown"
                                             : cold->backend;
  return {{"backend", std::move(name)}};
}

/// The cold supervisor's breaker and call outcomes.
void cold_families(const cold_status* cold, std::vector<MetricFamily>& out) {
  auto backend = backend_label(cold);
  auto state = family("authstore_cold_breaker_state",
                      "Circuit breaker of the cold store: 0 closed, 1 "
                      "half-open, 2 open, 3 forced open, 4 disabled, -1 no "
                      "cold store (or no answer). Open means persists wait "
                      "in the outbox; writes continue.",
                      MetricType::Gauge);
  state.metric.push_back(scalar(cold ? static_cast<int>(cold->state) : -1,
                                MetricType::Gauge, backend));
  out.push_back(std::move(state));
  auto transitions = family("authstore_cold_breaker_transitions_total",
                            "Breaker state changes by from and to state.",
                            MetricType::Counter);
  constexpr int n = static_cast<int>(breaker_state_count);
  for (int from = 0; from < n; ++from)
    for (int to = 0; to < n; ++to) {
      if (from == to)
        continue;
      size_t i = static_cast<size_t>(from * n + to);
      double v = cold && i < cold->transitions.size()
                   ? static_cast<double>(cold->transitions[i])
                   : 0.0;
      transitions.metric.push_back(scalar(
        v, MetricType::Counter,
        labelled(
          backend,
          {{"from", std::string{to_string(static_cast<breaker_state>(from))}},
           {"to", std::string{to_string(static_cast<breaker_state>(to))}}})));
    }
  out.push_back(std::move(transitions));
  auto calls = family("authstore_cold_calls_total",
                      "Cold-store calls by result: ok, failed, timeout "
                      "(forwarded to the cold store); rejected_open, "
                      "rejected_no_worker, rejected_overload (answered at "
                      "once, no cold-store call).",
                      MetricType::Counter);
  auto add = [&](const char* result, uint64_t v) {
    calls.metric.push_back(scalar(static_cast<double>(v), MetricType::Counter,
                                  labelled(backend, {{"result", result}})));
  };
  add("ok", cold ? cold->calls_succeeded : 0);
  add("failed", cold ? cold->calls_failed : 0);
  add("timeout", cold ? cold->calls_timed_out : 0);
  add("rejected_open", cold ? cold->rejected_open : 0);
  add("rejected_no_worker", cold ? cold->rejected_no_worker : 0);
  add("rejected_overload", cold ? cold->rejected_overload : 0);
  out.push_back(std::move(calls));
  auto in_flight = family("authstore_cold_in_flight_calls",
                          "Cold-store calls forwarded and not answered yet "
                          "(the supervisor's queue in front of the worker, "
                          "sampled at scrape).",
                          MetricType::Gauge);
  in_flight.metric.push_back(
    scalar(cold ? static_cast<double>(cold->in_flight) : 0, MetricType::Gauge,
           backend));
  out.push_back(std::move(in_flight));
  auto restarts
    = family("authstore_cold_worker_restarts_total",
             "Cold worker restarts after a crash.", MetricType::Counter);
  restarts.metric.push_back(
    scalar(cold ? static_cast<double>(cold->worker_restarts) : 0,
           MetricType::Counter, backend));
  out.push_back(std::move(restarts));
}

/// What the store counts by its own classifier's kinds. The kinds are the
/// backend's closed enum: PostgreSQL's pg_error_kind, MongoDB's
/// mongo_error_kind; none without a cold store (the families are then
/// emitted without series).
void cold_store_families(const cold_store_counters& c, const cold_status* cold,
                         std::vector<MetricFamily>& out) {
  auto backend = backend_label(cold);
  const auto& name = backend.front().value;
  auto errors = family("authstore_cold_store_errors_total",
                       "Failed attempts inside the cold store by the "
                       "backend's own kind (retried ones included): "
                       "connect_failed, io_timeout, serialization_failure, "
                       "read_only, disk_full, auth_failed, ... for "
                       "PostgreSQL; network, not_primary, ... for MongoDB. "
                       "A steady rate of one kind says what to fix.",
                       MetricType::Counter);
  auto kinds = cold_error_kind_names(name);
  // Slot 0 of every kind enum is "none", never a failure.
  for (size_t k = 1; k < kinds.size() && k < cold_store_counters::max_kinds;
       ++k)
    errors.metric.push_back(scalar(load(c.failures[k]), MetricType::Counter,
                                   labelled(backend, {{"kind", kinds[k]}})));
  out.push_back(std::move(errors));
  auto retries = family("authstore_cold_store_retries_total",
                        "Attempts the cold store repeated inside one call, "
                        "by reason: conflict (a serialization failure or "
                        "deadlock; PostgreSQL) or transient (reconnect after "
                        "a lost connection, a restart, a failover).",
                        MetricType::Counter);
  if (cold) {
    retries.metric.push_back(
      scalar(load(c.conflict_retries), MetricType::Counter,
             labelled(backend, {{"reason", "conflict"}})));
    retries.metric.push_back(
      scalar(load(c.transient_retries), MetricType::Counter,
             labelled(backend, {{"reason", "transient"}})));
  }
  out.push_back(std::move(retries));
  auto connects = family("authstore_cold_store_connects_total",
                         "Connections the cold store opened (PostgreSQL: one "
                         "per worker, again after each lost connection; a "
                         "fast rise means connections keep breaking).",
                         MetricType::Counter);
  if (cold)
    connects.metric.push_back(
      scalar(load(c.connects), MetricType::Counter, backend));
  out.push_back(std::move(connects));
}

/// The standard process metrics (names as the Prometheus client libraries
/// use them), read from /proc.
void process_families(std::vector<MetricFamily>& out) {
  static const long ticks = ::sysconf(_SC_CLK_TCK);
  static const long page = ::sysconf(_SC_PAGESIZE);
  std::ifstream stat{"/proc/self/stat"};
  std::string text((std::istreambuf_iterator<char>(stat)),
                   std::istreambuf_iterator<char>());
  // Fields after the ")" of the command name: 14 utime, 15 stime, 22
  // starttime, 24 rss (1-based in proc(5)).
  std::istringstream rest{text.substr(text.rfind(')') + 2)};
  std::vector<std::string> f{std::istream_iterator<std::string>{rest}, {}};
  double cpu = 0, start = 0, rss = 0;
  if (f.size() > 21) {
    cpu = (std::stod(f[11]) + std::stod(f[12])) / static_cast<double>(ticks);
    std::ifstream up{"/proc/uptime"};
    double uptime = 0;
    up >> uptime;
    auto now = std::chrono::duration<double>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
    start = now - uptime + std::stod(f[19]) / static_cast<double>(ticks);
    rss = std::stod(f[21]) * static_cast<double>(page);
  }
  double fds = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d))
      ++fds;
    ::closedir(d);
    fds -= 3; // ".", ".." and the directory's own descriptor
  }
  auto simple
    = [&](const char* name, const char* help, MetricType type, double value) {
        auto fam = family(name, help, type);
        fam.metric.push_back(scalar(value, type));
        out.push_back(std::move(fam));
      };
  simple("process_cpu_seconds_total", "User and system CPU time.",
         MetricType::Counter, cpu);
  simple("process_resident_memory_bytes", "Resident memory.", MetricType::Gauge,
         rss);
  simple("process_open_fds", "Open file descriptors.", MetricType::Gauge, fds);
  simple("process_start_time_seconds", "Start time, seconds since epoch.",
         MetricType::Gauge, start);
}

void cold_op_families(const cold_counters& c, const cold_status* cold,
                      std::vector<MetricFamily>& out) {
  op_families(c, false, "authstore_cold_operations_total",
              "Cold-store calls by operation (persist, load; a delete is a "
              "persist with erase) and result (ok or an error code, "
              "rejections while open or overloaded included).",
              "authstore_cold_operation_duration_seconds",
              "Time from the supervisor forwarding a call to its answer (or "
              "timeout), by operation.",
              out, backend_label(cold));
}

void outbox_families(const outbox_counters& o, std::vector<MetricFamily>& out) {
  auto counter
    = [&](const char* name, const char* help, const std::atomic<uint64_t>& x) {
        auto f = family(name, help, MetricType::Counter);
        f.metric.push_back(scalar(load(x), MetricType::Counter));
        out.push_back(std::move(f));
      };
  auto gauge = [&](const char* name, const char* help, double x) {
    single(out, name, help, MetricType::Gauge, x);
  };
  counter("authstore_outbox_dirty_writes_total",
          "Acknowledged writes (sets and deletes) that left dirty marks for "
          "the cold store.",
          o.dirty_writes);
  auto persists = family("authstore_outbox_persists_total",
                         "Persists the cold store confirmed and whose dirty "
                         "marks were cleared, by path (live: right after a "
                         "write; reconciler: a session left dirty). Its rate "
                         "is persists per second.",
                         MetricType::Counter);
  auto clean = family("authstore_outbox_clean_reads_total",
                      "Outbox reads that found nothing left to persist, by "
                      "path.",
                      MetricType::Counter);
  auto skipped = family("authstore_outbox_rounds_breaker_open_total",
                        "Persist rounds not started because the cold "
                        "store's breaker refused every call, by path: "
                        "nothing was read from Redis, the marks wait. "
                        "Rising while the breaker is open is expected.",
                        MetricType::Counter);
  auto failures = family("authstore_outbox_persist_failures_total",
                         "Failed persist rounds by path and reason (an error "
                         "code). The marks stay; the reconciler retries with "
                         "backoff.",
                         MetricType::Counter);
  auto latency = family("authstore_outbox_persist_duration_seconds",
                        "From reading a session's outbox to its marks "
                        "cleared, by path (the reconcile latency for "
                        "path=reconciler).",
                        MetricType::Histogram);
  size_t n_errc = 0;
  const auto* codes = all_errcs(n_errc);
  double total_persists = 0;
  for (size_t p = 0; p < persist_path_count; ++p) {
    std::string path = to_string(static_cast<persist_path>(p));
    persists.metric.push_back(
      scalar(load(o.persists[p]), MetricType::Counter, {{"path", path}}));
    total_persists += load(o.persists[p]);
    clean.metric.push_back(
      scalar(load(o.clean_reads[p]), MetricType::Counter, {{"path", path}}));
    skipped.metric.push_back(
      scalar(load(o.breaker_open[p]), MetricType::Counter, {{"path", path}}));
    for (size_t i = 0; i < n_errc; ++i)
      failures.metric.push_back(
        scalar(load(o.failures[p][errc_slot(codes[i])]), MetricType::Counter,
               {{"path", path}, {"reason", std::string{to_string(codes[i])}}}));
    latency.metric.push_back(
      histogram(o.latency[p], latency_bounds, 1e9, {{"path", path}}));
  }
  out.push_back(std::move(persists));
  out.push_back(std::move(clean));
  out.push_back(std::move(skipped));
  out.push_back(std::move(failures));
  out.push_back(std::move(latency));
  counter("authstore_outbox_marks_cleared_total",
          "Dirty marks (fields and erases) cleared after a confirmed persist.",
          o.marks_cleared);
  gauge("authstore_outbox_coalescing_ratio",
        "Dirty writes per confirmed persist since start: how many writes one "
        "cold-store persist carries on average (0 before the first).",
        total_persists > 0 ? load(o.dirty_writes) / total_persists : 0.0);
  gauge("authstore_outbox_backlog_sessions",
        "Sessions with dirty marks in Redis (all nodes), sampled each "
        "reconciler tick; -1 before the first sample.",
        load(o.backlog_sessions));
  gauge("authstore_outbox_backlog_fields",
        "Dirty marks in Redis (all nodes), sampled each reconciler tick; -1 "
        "before the first sample.",
        load(o.backlog_fields));
  auto age = o.oldest_age_ms.load(std::memory_order_relaxed);
  gauge("authstore_outbox_oldest_dirty_age_seconds",
        "Age of the oldest dirty session's index entry (re-stamped when a "
        "persist leaves newer marks); -1 before the first sample.",
        age < 0 ? -1.0 : static_cast<double>(age) / 1000.0);
  gauge("authstore_outbox_quarantined_sessions",
        "Sessions parked in as:quarantine (malformed outbox; nothing "
        "dropped): each needs an operator. -1 before the first sample.",
        load(o.quarantine_size));
  gauge("authstore_outbox_live_persists_in_flight",
        "Persists started right after writes and not finished (capped by "
        "outbox.live-max-in-flight).",
        load(o.live_in_flight));
  counter("authstore_outbox_live_deferred_total",
          "Writes whose persist was left to the reconciler because the live "
          "cap was reached (raise the cap if the cold store keeps up).",
          o.live_deferred);
  counter("authstore_outbox_quarantined_total",
          "Sessions this node moved to the quarantine.", o.quarantined);
  counter("authstore_outbox_reindexed_total",
          "Dirty sessions the sweep found missing from the index.",
          o.reindexed);
  counter("authstore_outbox_claims_lost_total",
          "Sessions skipped because another reconciler held their claim.",
          o.claims_lost);
  counter("authstore_outbox_ticks_total", "Reconciler ticks.", o.ticks);
  counter("authstore_outbox_ticks_cold_open_total",
          "Reconciler ticks that persisted nothing because the cold store's "
          "circuit was open.",
          o.ticks_cold_open);
}

/// The HTTP front door (runtime/http/): requests by route and status, their
/// latency, connections and why the server dropped some.
void api_families(const api_counters& a, std::vector<MetricFamily>& out) {
  auto requests = family("authstore_api_requests_total",
                         "HTTP requests answered, by route and status (the "
                         "API and /metrics, /healthz, /readyz; route unknown: "
                         "no route matched). 429 means a bound on requests "
                         "in flight was hit, 503 a backend is down.",
                         MetricType::Counter);
  auto latency = family("authstore_api_request_duration_seconds",
                        "From a complete HTTP request to its reply, by "
                        "route (the engine's time plus the bridge's hops).",
                        MetricType::Histogram);
  for (size_t r = 0; r < api_route_count; ++r) {
    std::string route = to_string(static_cast<api_route>(r));
    for (size_t k = 0; k < api_status_count; ++k)
      requests.metric.push_back(
        scalar(load(a.requests[r][k]), MetricType::Counter,
               {{"route", route}, {"status", api_status_label(k)}}));
    latency.metric.push_back(
      histogram(a.latency[r], latency_bounds, 1e9, {{"route", route}}));
  }
  out.push_back(std::move(requests));
  out.push_back(std::move(latency));
  single(out, "authstore_api_open_connections",
         "HTTP connections open now (bounded by api.max-connections).",
         MetricType::Gauge, load(a.open_connections));
  single(out, "authstore_api_in_flight_requests",
         "HTTP requests waiting for the engine now (bounded by "
         "api.max-in-flight).",
         MetricType::Gauge, load(a.in_flight));
  single(out, "authstore_api_connections_total", "HTTP connections accepted.",
         MetricType::Counter, load(a.accepted));
  auto dropped = family("authstore_api_dropped_connections_total",
                        "HTTP connections the server closed itself, by "
                        "reason: read_timeout (slow client), idle_timeout, "
                        "tls_handshake, over_limit (at accept), rejected "
                        "(after a 413, 431, 400 or an early refusal).",
                        MetricType::Counter);
  for (size_t d = 0; d < api_drop_count; ++d)
    dropped.metric.push_back(
      scalar(load(a.dropped[d]), MetricType::Counter,
             {{"reason", to_string(static_cast<api_drop>(d))}}));
  out.push_back(std::move(dropped));
}

/// Node ownership and membership (issue #19).
void cluster_families(const cluster_counters& c,
                      std::vector<MetricFamily>& out) {
  single(out, "authstore_cluster_owned_sessions",
         "Sessions this node owns now (issue #19, cluster.enabled; 0 when "
         "off). Only owned sessions are answered from the cache.",
         MetricType::Gauge, load(c.owned));
  auto events = family(
    "authstore_cluster_lease_events_total",
    "Ownership lease events of this node's session actors: taken (a new "
    "term), taken_over (of those, a term another node had left to expire: "
    "a takeover), renewed, refused (another node owns the session), lost (a "
    "fenced write or another node took it), released. A steady rate of "
    "lost means sessions move between nodes: route each session to one.",
    MetricType::Counter);
  const std::pair<const char*, const std::atomic<uint64_t>*> rows[] = {
    {"taken", &c.taken},     {"taken_over", &c.taken_over},
    {"renewed", &c.renewed}, {"refused", &c.refused},
    {"lost", &c.lost},       {"released", &c.released},
  };
  for (const auto& row : rows)
    events.metric.push_back(
      scalar(load(*row.second), MetricType::Counter, {{"event", row.first}}));
  out.push_back(std::move(events));
  single(out, "authstore_cluster_fenced_writes_total",
         "Writes Redis refused because this node did not own the session "
         "(nothing applied). Above 0 for long: clients write to a node that "
         "is not the owner.",
         MetricType::Counter, load(c.fenced_writes));
  single(out, "authstore_cluster_forwards_total",
         "Requests this node forwarded to the node owning their session "
         "(issue #19). With a load balancer in front, about (n-1)/n of all "
         "requests; 0 on one node.",
         MetricType::Counter, load(c.forwards));
  single(out, "authstore_cluster_forward_failures_total",
         "Forwards that failed on the way (owner unreachable, stopping, or "
         "silent past the bound). Reads then go to Redis here; writes wait "
         "for the owner's lease to expire (not_owner, retryable).",
         MetricType::Counter, load(c.forward_failures));
  single(out, "authstore_cluster_members",
         "Live members of the cluster as of this node's last heartbeat (-1: "
         "none answered yet, or cluster.enabled off).",
         MetricType::Gauge, load(c.members));
  single(out, "authstore_cluster_heartbeat_failures_total",
         "Membership heartbeats that failed (Redis unreachable, or the node "
         "id used by another process).",
         MetricType::Counter, load(c.heartbeat_failures));
}

/// Encryption at rest and failed authentication (issue #17). No label value
/// names a key, a session or an address.
void security_families(const security_counters& c,
                       std::vector<MetricFamily>& out) {
  auto values = family("authstore_crypto_values_total",
                       "Stored values by what encryption at rest did: "
                       "sealed (written), opened (read), plaintext (read as "
                       "written before encryption was enabled: rekey seals "
                       "them), rekeyed (re-sealed by the sweep), "
                       "decrypt_failed (any above 0 is a session callers "
                       "cannot read: wrong or missing key, or tampering).",
                       MetricType::Counter);
  std::pair<const char*, const std::atomic<uint64_t>*> rows[]
    = {{"sealed", &c.sealed},
       {"opened", &c.opened},
       {"plaintext", &c.plaintext_reads},
       {"rekeyed", &c.rekeyed},
       {"decrypt_failed", &c.decrypt_failures}};
  for (const auto& [label, x] : rows)
    values.metric.push_back(
      scalar(load(*x), MetricType::Counter, {{"result", label}}));
  out.push_back(std::move(values));
  auto failed = family("authstore_auth_failures_total",
                       "Failed authentication attempts by port (wrong or "
                       "missing secret). A steady rate is someone guessing.",
                       MetricType::Counter);
  auto limited = family("authstore_auth_rate_limited_total",
                        "Authentication attempts refused unchecked by port, "
                        "because their source address failed more than "
                        "auth.max-failures times per auth.failure-window-s.",
                        MetricType::Counter);
  for (size_t p = 0; p < auth_port_count; ++p) {
    std::string port = to_string(static_cast<auth_port>(p));
    failed.metric.push_back(
      scalar(load(c.auth_failures[p]), MetricType::Counter, {{"port", port}}));
    limited.metric.push_back(
      scalar(load(c.auth_limited[p]), MetricType::Counter, {{"port", port}}));
  }
  out.push_back(std::move(failed));
  out.push_back(std::move(limited));
}

} // namespace

std::string render_metrics(const engine_counters& counters,
                           const cold_status* cold) {
  std::vector<MetricFamily> families;
  operation_families(counters.sessions, families);
  redis_families(counters.redis, families);
  cold_families(cold, families);
  cold_op_families(counters.cold, cold, families);
  cold_store_families(counters.cold_store, cold, families);
  outbox_families(counters.outbox, families);
  api_families(counters.api, families);
  security_families(counters.security, families);
  cluster_families(counters.cluster, families);
  process_families(families);
  single(families, "authstore_log_suppressed_total",
         "Log lines of repeated events not written (observe/log_limit.hpp: "
         "at most one line per event kind every 10 s, which says how many "
         "were dropped before it). For the process, not per engine.",
         MetricType::Counter, static_cast<double>(log::suppressed_total()));
  auto info = family("authstore_build_info",
                     "Always 1; the labels say which build is running.",
                     MetricType::Gauge);
  info.metric.push_back(
    scalar(1, MetricType::Gauge,
           {{"version", build_version()}, {"revision", build_revision()}}));
  families.push_back(std::move(info));
  return prometheus::TextSerializer{}.Serialize(families);
}

std::vector<std::string> cold_error_kind_names(const std::string& backend) {
  std::vector<std::string> names;
  if (backend == "postgresql")
    for (size_t k = 0; k < pg_error_kind_count; ++k)
      names.emplace_back(to_string(static_cast<pg_error_kind>(k)));
  else if (backend == "mongodb")
    for (size_t k = 0; k < mongo_error_kind_count; ++k)
      names.emplace_back(to_string(static_cast<mongo_error_kind>(k)));
  return names;
}

std::vector<std::string> metric_family_names() {
  auto empty = std::make_unique<engine_counters>(); // ~1 MB: not on the stack
  std::vector<std::string> names;
  std::istringstream in{render_metrics(*empty)};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("# TYPE ", 0) == 0)
      names.push_back(line.substr(7, line.find(' ', 7) - 7));
  return names;
}

} // namespace authstore
