// persist_bench.cpp -- persists/s of pg_store against one PostgreSQL, with
// the Baileys traffic model's writes, so the ratio to pgbench's own limit
// (bench/pg/upsert.sql, same server, same durability) is known.
//
// Method: T threads, each with its own pg_store (one connection each),
// persist for D seconds as fast as the server commits. Each thread owns
// S sessions (runtime/sim/traffic.hpp: the steady-state write mix --
// session records of 1-3 KB, sender keys, pre-key deletes and refills,
// lid-mapping/device-list, tctoken, creds) and turns every write of the
// model into one persist of exactly its fields at the session's next
// version (the outbox would coalesce several; one per write is the
// heavier case). Sessions are taken round-robin, so no two persists of a
// thread hit the same session back to back. One persist = one transaction
// (pipelined: one round trip) -- what the cold worker does per call.
// Latency per persist goes into a log-linear histogram (within 1.6 %).
//
// --shape fixed replaces the model by upsert.sql's transaction exactly:
// two field rows of 1495 and 127 bytes per persist, named after the thread
// (pgbench: the client), in a random one of 10 000 shared sessions, so the
// ratio to pgbench compares the same work on the same rows.
//
// Usage: persist_bench --uri URI [--threads T] [--seconds D]
//        [--sessions S] [--seed N] [--no-pipeline] [--schema NAME]
//        [--shape model|fixed] [--init-only]
// Prints one JSON object on stdout. --init-only creates the schema (the
// real migration, pg_store::prepare) and exits: bench/pg/run.sh uses it
// before pgbench, so both write the same tables.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "observe/latency_histogram.hpp"
#include "postgres/store.hpp"
#include "runtime/sim/traffic.hpp"

using namespace authstore;

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  std::string uri;
  std::string schema = "bench";
  int threads = 8;
  int seconds = 10;
  int sessions = 1000;
  uint64_t seed = 1;
  bool pipeline = true;
  bool init_only = false;
  /// "model": the traffic model's writes; "fixed": upsert.sql's shape.
  std::string shape = "model";
};

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      return i + 1 < argc ? argv[++i] : "";
    };
    if (a == "--uri")
      o.uri = value();
    else if (a == "--schema")
      o.schema = value();
    else if (a == "--threads")
      o.threads = std::atoi(value());
    else if (a == "--seconds")
      o.seconds = std::atoi(value());
    else if (a == "--sessions")
      o.sessions = std::atoi(value());
    else if (a == "--seed")
      o.seed = std::strtoull(value(), nullptr, 10);
    else if (a == "--no-pipeline")
      o.pipeline = false;
    else if (a == "--init-only")
      o.init_only = true;
    else if (a == "--shape")
      o.shape = value();
    else
      return false;
  }
  return !o.uri.empty() && o.threads > 0 && o.seconds > 0 && o.sessions > 0
         && (o.shape == "model" || o.shape == "fixed");
}

// --shape fixed: one version clock for all threads (upsert.sql uses the
// wall clock in microseconds for the same purpose).
std::atomic<uint64_t> fixed_clock{0};

struct thread_result {
  uint64_t persists = 0;
  uint64_t failures = 0;
  uint64_t fields = 0;
  uint64_t value_bytes = 0;
  std::string first_error;
};

// One thread: its store, its sessions, writes until `stop`.
void drive(const pg_store_config& cfg, const options& o, int index,
           const std::atomic<bool>& stop, latency_histogram& latency,
           thread_result& out) {
  auto store = pg_store::open(cfg);
  if (!store) {
    out.first_error = store.error().render();
    return;
  }
  std::vector<sim_session> sessions;
  std::vector<uint64_t> versions;
  for (int i = 0; i < o.sessions; ++i) {
    sessions.emplace_back("t" + std::to_string(index) + "-" + std::to_string(i),
                          o.seed * 1000003 + static_cast<uint64_t>(index) * 7919
                            + static_cast<uint64_t>(i));
    versions.push_back(0);
  }
  // upsert.sql's shape: a 1495-byte session record and a 127-byte tctoken
  // (the same lengths; pseudo-random base64-like bytes, not compressible).
  auto filler = [x = uint64_t{0x9e3779b97f4a7c15}](size_t n) mutable {
    static const char alphabet[]
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out = R"({"type":"Buffer","data":")";
    while (out.size() < n - 2) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      out.push_back(alphabet[x % 64]);
    }
    return out + "\"}";
  };
  const std::string record = filler(1495), token = filler(127);
  uint64_t rng = 0x2545f4914f6cdd1dULL ^ static_cast<uint64_t>(index + 1);
  for (size_t next = 0; !stop.load(std::memory_order_relaxed); ++next) {
    size_t i = next % sessions.size();
    std::vector<field_write> fields;
    if (o.shape == "fixed") {
      auto id = std::to_string(index);
      fields = {{"k:session/" + id + ".0", false, record},
                {"k:tctoken/" + id, false, token}};
    } else {
      auto op = sessions[i].next_steady(0.0); // writes only
      if (op.kind != sim_op_kind::set || op.writes.writes.empty())
        continue;
      fields = std::move(op.writes.writes);
    }
    persist_request req{sessions[i].id(), ++versions[i], std::move(fields)};
    if (o.shape == "fixed") {
      // As upsert.sql: a random one of 10 000 sessions shared by all
      // threads, versions from one increasing clock (so every upsert wins).
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      req.session_id = "fx" + std::to_string(1 + rng % 10000);
      req.version = fixed_clock.fetch_add(1) + 1;
    }
    for (const auto& w : req.fields)
      out.value_bytes += w.value.size();
    out.fields += req.fields.size();
    auto start = clock_type::now();
    auto r = (*store)->persist(req);
    latency.record(static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now()
                                                           - start)
        .count()));
    if (r) {
      ++out.persists;
    } else {
      ++out.failures;
      if (out.first_error.empty())
        out.first_error = r.error().render();
    }
  }
}

std::string json_string(const std::string& x) {
  std::string out = "\"";
  for (char c : x)
    out += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return out + "\"";
}

} // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::cerr << "usage: persist_bench --uri URI [--threads T] [--seconds D] "
                 "[--sessions S] [--seed N] [--no-pipeline] [--schema NAME] "
                 "[--shape model|fixed] [--init-only]\n";
    return 2;
  }
  pg_store_config cfg;
  cfg.uri = o.uri;
  cfg.schema = o.schema;
  cfg.pipeline = o.pipeline;
  cfg.call_timeout = std::chrono::milliseconds{10000};
  {
    auto store = pg_store::open(cfg);
    if (!store) {
      std::cerr << store.error().render() << "\n";
      return 2;
    }
    auto ready = (*store)->prepare();
    if (!ready) {
      std::cerr << ready.error().render() << "\n";
      return 2;
    }
  }
  if (o.init_only)
    return 0;
  std::atomic<bool> stop{false};
  latency_histogram latency;
  std::vector<thread_result> results(static_cast<size_t>(o.threads));
  std::vector<std::thread> threads;
  auto start = clock_type::now();
  for (int t = 0; t < o.threads; ++t)
    threads.emplace_back(drive, std::cref(cfg), std::cref(o), t,
                         std::cref(stop), std::ref(latency),
                         std::ref(results[static_cast<size_t>(t)]));
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  stop = true;
  for (auto& t : threads)
    t.join();
  double elapsed
    = std::chrono::duration<double>(clock_type::now() - start).count();
  thread_result total;
  for (const auto& r : results) {
    total.persists += r.persists;
    total.failures += r.failures;
    total.fields += r.fields;
    total.value_bytes += r.value_bytes;
    if (total.first_error.empty())
      total.first_error = r.first_error;
  }
  auto attempts = total.persists + total.failures;
  auto us = [&](double q) {
    return static_cast<double>(latency.quantile(q)) / 1000.0;
  };
  std::cout << "{\"shape\":\"" << o.shape << "\",\"threads\":" << o.threads
            << ",\"connections\":" << o.threads
            << ",\"pipeline\":" << (o.pipeline ? "true" : "false")
            << ",\"seconds\":" << elapsed
            << ",\"sessions_per_thread\":" << o.sessions
            << ",\"seed\":" << o.seed << ",\"persists\":" << total.persists
            << ",\"failures\":" << total.failures << ",\"persists_per_s\":"
            << static_cast<double>(total.persists) / elapsed
            << ",\"fields_per_persist\":"
            << (attempts ? static_cast<double>(total.fields) / attempts : 0)
            << ",\"value_bytes_per_persist\":"
            << (attempts ? static_cast<double>(total.value_bytes) / attempts
                         : 0)
            << ",\"p50_us\":" << us(0.5) << ",\"p99_us\":" << us(0.99)
            << ",\"max_us\":" << static_cast<double>(latency.max()) / 1000.0
            << ",\"first_error\":" << json_string(total.first_error) << "}\n";
  return total.failures == 0 ? 0 : 1;
}
