// sealed_ab.cpp -- the cost of encryption at rest as a paired A/B in one
// process (issue #17): two engines on the same Redis, one without and one
// with crypto.key-file, and every operation issued to both, alternately.
//
// Why not two processes (bench/crypto-bench.sh runs latency_bench once per
// side): on this shared 2-core machine one run's p50 moves by +-20-50 us
// from the next (other helpers' compilers, the scheduler), more than the
// sealed path costs, so a ratio of two runs measures the machine. Here op i
// goes to plain then sealed (odd i: sealed then plain), back to back, so
// both sides see the same load at the same moment; the report gives each
// side's quantiles, their ratio, and the median of the per-pair
// differences (sealed - plain), which is what the pairing buys.
//
// What is measured: the engine's blocking API (engine::set / get_keys /
// get_creds: one scoped_actor per call, router -> session actor -> Redis
// actor -> redis-server and back), the same for both sides. Phases as in
// latency_bench: set_creds_small (one creds field), set_prekeys_10 (10
// pre-keys, ~70 bytes each), get_keys_uncached (one of 10 000 pre-keys
// seeded before, never the same id twice in a row: more than the session
// cache holds, so each read goes to Redis), get_creds_cached (answered from
// the session cache: no cipher, the control). Each engine has its own
// sessions ("ab-plain-*", "ab-sealed-*").
//
// Usage: sealed_ab --redis URL --key-file FILE [--n N] [any authstore config
//        flag]; prints one JSON object on stdout.
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "bench/bench_values.hpp"
#include "messages/codec.hpp"
#include "observe/latency_histogram.hpp"
#include "runtime/engine/engine.hpp"

using namespace authstore;

namespace {

using clock_type = std::chrono::steady_clock;

using bench::buf32;

/// One side's samples of one phase.
struct side {
  latency_histogram hist;
  std::vector<int64_t> ns; // per op, in order (for the paired differences)
  uint64_t errors = 0;
};

json quantiles(const latency_histogram& h) {
  auto us = [](uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
  };
  return {{"p10", us(h.quantile(0.1))}, {"p25", us(h.quantile(0.25))},
          {"p50", us(h.quantile(0.5))}, {"p75", us(h.quantile(0.75))},
          {"p90", us(h.quantile(0.9))}, {"p99", us(h.quantile(0.99))}};
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  size_t n = 4000;
  std::string key_file;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      std::cerr << "sealed_ab: expected --flag value pairs\n";
      return 2;
    }
    k = k.substr(2);
    if (k == "n")
      n = std::stoul(argv[i + 1]);
    else if (k == "key-file")
      key_file = argv[i + 1];
    else
      flags[k] = argv[i + 1];
  }
  if (key_file.empty()) {
    std::cerr << "sealed_ab: --key-file FILE is required\n";
    return 2;
  }
  auto plain_cfg = settings::load(flags);
  flags["crypto.key-file"] = key_file;
  auto sealed_cfg = settings::load(flags);
  if (!plain_cfg || !sealed_cfg) {
    std::cerr << (plain_cfg ? sealed_cfg.error() : plain_cfg.error()).render()
              << '\n';
    return 2;
  }
  auto plain = engine::start(*plain_cfg);
  auto sealed = engine::start(*sealed_cfg);
  if (!plain || !sealed) {
    std::cerr << (plain ? sealed.error() : plain.error()).render() << '\n';
    return 1;
  }
  engine* engines[2] = {plain->get(), sealed->get()};
  const char* names[2] = {"plain", "sealed"};
  auto sid = [&](int s, const char* what) {
    return std::string{"ab-"} + names[s] + "-" + what;
  };
  // The same seed as latency_bench's: 10 000 pre-keys in one session.
  for (int s = 0; s < 2; ++s)
    for (size_t batch = 0; batch < 10; ++batch) {
      patch p;
      for (size_t k = 0; k < 1000; ++k)
        p.set_key("pre-key", std::to_string(batch * 1000 + k), buf32(k));
      if (!engines[s]->set(sid(s, "keys"), std::move(p))) {
        std::cerr << "sealed_ab: cannot seed Redis\n";
        return 1;
      }
    }
  using op_fn = std::function<bool(int s, size_t i)>;
  struct phase {
    std::string name;
    size_t n;
    op_fn op;
  };
  std::vector<phase> phases = {
    {"set_creds_small", n,
     [&](int s, size_t i) {
       patch p;
       p.set_creds("accountSyncCounter", std::to_string(i));
       return static_cast<bool>(engines[s]->set(sid(s, "creds"), std::move(p)));
     }},
    {"get_creds_cached", n,
     [&](int s, size_t) {
       return static_cast<bool>(engines[s]->get_creds(sid(s, "creds")));
     }},
    {"set_prekeys_10", n / 4,
     [&](int s, size_t i) {
       patch p;
       for (size_t k = 0; k < 10; ++k)
         p.set_key("pre-key", std::to_string(i * 10 + k), buf32(k));
       return static_cast<bool>(
         engines[s]->set(sid(s, "prekeys"), std::move(p)));
     }},
    {"get_keys_uncached", n,
     [&](int s, size_t i) {
       auto r = engines[s]->get_keys(sid(s, "keys"), "pre-key",
                                     {std::to_string(i % 10000)});
       return r && r->values.size() == 1;
     }},
  };
  json out;
  out["n"] = n;
  out["method"] = "two engines in one process (plain, sealed), same Redis; "
                  "op i to both back to back, the order alternating; blocking "
                  "API";
  out["operations"] = json::object();
  for (auto& ph : phases) {
    side sides[2];
    for (auto& sd : sides)
      sd.ns.reserve(ph.n);
    for (size_t i = 0; i < ph.n; ++i)
      for (int k = 0; k < 2; ++k) {
        int s = (i % 2 == 0) ? k : 1 - k;
        auto t0 = clock_type::now();
        bool ok = ph.op(s, i);
        auto dt = clock_type::now() - t0;
        sides[s].hist.record(
          std::chrono::duration_cast<std::chrono::nanoseconds>(dt));
        sides[s].ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(dt).count());
        if (!ok)
          ++sides[s].errors;
      }
    std::vector<int64_t> diff(ph.n);
    for (size_t i = 0; i < ph.n; ++i)
      diff[i] = sides[1].ns[i] - sides[0].ns[i];
    std::nth_element(diff.begin(), diff.begin() + diff.size() / 2, diff.end());
    double p50[2];
    json j;
    for (int s = 0; s < 2; ++s) {
      j[names[s]] = quantiles(sides[s].hist);
      j[names[s]]["errors"] = sides[s].errors;
      p50[s] = static_cast<double>(sides[s].hist.quantile(0.5)) / 1000.0;
    }
    j["ratio_p50"] = p50[1] / p50[0];
    j["median_pair_diff_us"]
      = diff.empty() ? 0.0
                     : static_cast<double>(diff[diff.size() / 2]) / 1000.0;
    out["operations"][ph.name] = j;
  }
  std::cout << out.dump(2) << '\n';
  return 0;
}
