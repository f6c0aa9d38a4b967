// read_through_bench.cpp -- latency of a read-through from the PostgreSQL
// cold store: get_creds of a session Redis has no trace of, answered by
// loading it from PostgreSQL (one snapshot of its rows), writing it back
// into Redis, and replying -- the first read after a hot copy expired or
// was lost.
//
// Method (bench/pg/sim.sh runs both phases, FLUSHDB between them):
//   --phase write: an in-process engine writes S sessions (creds of the
//     Baileys size and K signal keys each, one request in flight), then
//     waits until the outbox has persisted every session (the backlog gauge
//     reads 0 and every dirty write was persisted or coalesced away).
//   --phase read: a new engine (no session cache) on the flushed Redis
//     reads each session once, one request in flight: get_creds is the
//     read-through (measured); a second get_creds of the same session is
//     then a cached read (measured beside it, for scale). A session not found,
//     or found at another version than written, is counted as wrong.
// Usage: read_through_bench --phase write|read --redis.url URL
//        --cold.uri URI [--sessions S] [--keys K] [any authstore flag]
// Prints one JSON object on stdout.
#include <chrono>
#include <iostream>
#include <map>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "observe/latency_histogram.hpp"
#include "runtime/engine/engine.hpp"

using namespace authstore;
using clock_type = std::chrono::steady_clock;

namespace {

std::string sid_of(size_t i) {
  return "rtbench-" + std::to_string(i);
}

/// The value of an unlabelled sample `name` in a metrics text (-1: none).
double sample(const std::string& text, const std::string& name) {
  auto pos = text.find("\n" + name + " ");
  return pos == std::string::npos
           ? -1
           : std::stod(text.substr(pos + name.size() + 2));
}

nlohmann::json summary(const latency_histogram& h) {
  return {{"n", h.count()},
          {"p50_us", static_cast<double>(h.quantile(0.5)) / 1e3},
          {"p99_us", static_cast<double>(h.quantile(0.99)) / 1e3},
          {"max_us", static_cast<double>(h.quantile(1.0)) / 1e3}};
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  std::string phase;
  size_t sessions = 2000, keys = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      std::cerr << "read_through_bench: expected --flag value pairs\n";
      return 2;
    }
    k = k.substr(2);
    if (k == "phase")
      phase = argv[i + 1];
    else if (k == "sessions")
      sessions = std::stoul(argv[i + 1]);
    else if (k == "keys")
      keys = std::stoul(argv[i + 1]);
    else
      flags[k] = argv[i + 1];
  }
  if (phase != "write" && phase != "read") {
    std::cerr << "usage: read_through_bench --phase write|read --redis.url "
                 "URL --cold.uri URI [--sessions S] [--keys K]\n";
    return 2;
  }
  auto cfg = settings::load(flags);
  if (!cfg) {
    std::cerr << cfg.error().render() << '\n';
    return 2;
  }
  auto started = engine::start(*cfg);
  if (!started) {
    std::cerr << started.error().render() << '\n';
    return 1;
  }
  auto& e = **started;
  nlohmann::json out
    = {{"phase", phase}, {"sessions", sessions}, {"keys_per_session", keys}};
  if (phase == "write") {
    size_t failed = 0;
    for (size_t i = 0; i < sessions; ++i) {
      patch p;
      // About the size of Baileys' creds (noiseKey, signedIdentityKey,
      // signedPreKey, registrationId, me, ...: ~1.5 kB of JSON).
      p.set_creds("noiseKey", "{\"private\":{\"type\":\"Buffer\",\"data\":\""
                                + std::string(44, 'n') + "\"}}");
      p.set_creds("me", "{\"id\":\"" + std::to_string(5511000000 + i)
                          + "@s.whatsapp.net\"}");
      p.set_creds("account", "\"" + std::string(1200, 'a') + "\"");
      for (size_t k = 0; k < keys; ++k)
        p.set_key("pre-key", std::to_string(k),
                  "{\"public\":{\"type\":\"Buffer\",\"data\":\""
                    + std::string(44, 'k') + "\"}}");
      if (!e.set(sid_of(i), std::move(p)))
        ++failed;
    }
    // Until every session is in PostgreSQL: the gauge is sampled each
    // reconciler tick (outbox.interval-ms, 1 s by default), so first wait
    // out a few ticks after the last write. The read phase checks every
    // session anyway.
    std::this_thread::sleep_for(std::chrono::seconds{3});
    auto deadline = clock_type::now() + std::chrono::minutes{5};
    bool drained = false;
    while (!drained && clock_type::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
      drained
        = sample(e.metrics_text(), "authstore_outbox_backlog_sessions") == 0;
    }
    out["write_failed"] = failed;
    out["drained"] = drained;
    std::cout << out.dump(2) << '\n';
    return failed == 0 && drained ? 0 : 1;
  }
  latency_histogram cold, hot;
  size_t wrong = 0, failed = 0;
  for (size_t i = 0; i < sessions; ++i) {
    auto t0 = clock_type::now();
    auto r = e.get_creds(sid_of(i));
    auto t1 = clock_type::now();
    if (!r) {
      ++failed;
      continue;
    }
    cold.record(t1 - t0);
    if (!r->found || r->version != 1)
      ++wrong;
    auto t2 = clock_type::now();
    auto again = e.get_creds(sid_of(i));
    hot.record(clock_type::now() - t2);
    if (!again || !(*again == *r))
      ++wrong;
  }
  out["read_through"] = summary(cold);
  out["cached_read_after"] = summary(hot);
  out["wrong"] = wrong;
  out["failed"] = failed;
  std::cout << out.dump(2) << '\n';
  return wrong == 0 && failed == 0 ? 0 : 1;
}
