// latency_bench.cpp -- single-client latency of the engine's operations and
// memory per idle live session actor, measured in-process.
//
// Method: one driver actor on the engine's scheduler keeps exactly one
// request in flight (request -> reply -> next request), so each sample is
// the full round trip a Baileys adapter in the same process would see:
// router -> session actor -> Redis actor (own thread) -> redis-server and
// back. Latencies go into a log-linear histogram (within 1.6 %; max exact).
// The blocking convenience API (engine::set, a scoped_actor per call) is
// measured separately. Memory: N idle session actors (one `exists` each);
// RSS growth divided by N.
//
// `_nt` phases send their requests without a CAF timeout (CAF 0.17.6
// registers every request timeout with its shared clock thread and never
// cancels it; issue #18): the same operation, minus the caller's timer.
// The whole run is bounded by a watchdog instead. `caf_ping` is the plain
// baseline for the cached read: the same request/reply between this driver
// and an echo actor on the same scheduler, no engine code at all; its tail
// is what the VM and CAF's scheduler add to anything in-process.
//
// `_w100` phases keep 100 requests in flight (latency under load and
// throughput; --window W changes 100, and the names, to W). With --connect
// HOST:PORT the same phases run through the remote client against
// `authstore serve` (the middleman round trip).
//
// `--phases a,b` runs only the named phases (the seeding always runs), e.g.
// one phase under callgrind or with Redis' INFO commandstats reset before.
//
// Usage: latency_bench --redis URL [--n N] [--idle-sessions N] [--window W]
//        [--connect HOST:PORT] [--phases NAME,...] [any authstore config
//        flag]; prints one JSON object on stdout.
#include <atomic>
#include <caf/all.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>

#include "bench/bench_values.hpp"
#include "observe/latency_histogram.hpp"
#include "runtime/engine/engine_actors.hpp"
#include "runtime/remote/client_actors.hpp"
#include "runtime/sim/report.hpp"

using namespace authstore;

namespace {

using clock_type = std::chrono::steady_clock;
using done_fn = std::function<void(bool ok)>;

/// One measured operation: `n` sequential requests issued by `issue`.
struct phase {
  std::string name;
  size_t n;
  std::function<void(caf::event_based_actor*, size_t i, done_fn)> issue;
  /// Requests kept in flight (1: one at a time).
  size_t window = 1;
};

struct driver_state {
  std::vector<phase> phases;
  size_t phase_idx = 0;
  size_t issued = 0;
  size_t completed = 0;
  clock_type::time_point phase_start;
  std::map<std::string, double>* seconds = nullptr;
  /// Each phase's start, seconds after `t0` (the engine's start).
  std::map<std::string, double>* starts = nullptr;
  clock_type::time_point t0;
  std::map<std::string, std::unique_ptr<latency_histogram>>* hist = nullptr;
  std::map<std::string, uint64_t>* errors = nullptr;
  std::atomic<bool>* finished = nullptr;
};

void issue_one(caf::stateful_actor<driver_state>* self);

/// Starts the next phase (or finishes): fills its window.
void start_phase(caf::stateful_actor<driver_state>* self) {
  auto& st = self->state;
  if (st.phase_idx == st.phases.size()) {
    st.finished->store(true);
    self->quit();
    return;
  }
  st.issued = st.completed = 0;
  st.phase_start = clock_type::now();
  auto& ph = st.phases[st.phase_idx];
  (*st.starts)[ph.name]
    = std::chrono::duration<double>(st.phase_start - st.t0).count();
  for (size_t k = 0; k < ph.window && st.issued < ph.n; ++k)
    issue_one(self);
}

void issue_one(caf::stateful_actor<driver_state>* self) {
  auto& st = self->state;
  auto& ph = st.phases[st.phase_idx];
  auto start = clock_type::now();
  auto i = st.issued++;
  ph.issue(self, i, [self, start, name = ph.name](bool ok) {
    auto& st = self->state;
    (*st.hist)[name]->record(clock_type::now() - start);
    if (!ok)
      ++(*st.errors)[name];
    auto& ph = st.phases[st.phase_idx];
    if (++st.completed == ph.n) {
      (*st.seconds)[name]
        = std::chrono::duration<double>(clock_type::now() - st.phase_start)
            .count();
      ++st.phase_idx;
      start_phase(self);
    } else if (st.issued < ph.n) {
      issue_one(self);
    }
  });
}

template <class Reply, class... Ts>
void ask(caf::event_based_actor* self, router_actor r, done_fn done, Ts... xs) {
  self->request(r, std::chrono::seconds{10}, xs...)
    .then([done](const Reply&) { done(true); },
          [done](caf::error&) { done(false); });
}

/// As ask, without a CAF timeout (the run's watchdog bounds it).
template <class Reply, class Handle, class... Ts>
void ask_nt(caf::event_based_actor* self, Handle r, done_fn done, Ts... xs) {
  self->request(r, caf::infinite, xs...)
    .then([done](const Reply&) { done(true); },
          [done](caf::error&) { done(false); });
}

using bench::buf32;

json summary(const latency_histogram& h, uint64_t errors) {
  auto us = [](uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
  };
  return {{"count", h.count()},
          {"errors", errors},
          {"latency_us",
           {{"p10", us(h.quantile(0.1))},
            {"p25", us(h.quantile(0.25))},
            {"p50", us(h.quantile(0.5))},
            {"p75", us(h.quantile(0.75))},
            {"p90", us(h.quantile(0.9))},
            {"p99", us(h.quantile(0.99))},
            {"p999", us(h.quantile(0.999))},
            {"max", us(h.max())}}}};
}

} // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> flags;
  size_t n = 20000;
  size_t idle = 100000;
  size_t window = 100; // requests in flight of the _w<window> phases
  std::string connect; // HOST:PORT of `authstore serve`: measure remotely
  std::string only;    // --phases: comma-separated names, empty: all
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k.rfind("--", 0) != 0) {
      std::cerr << "latency_bench: expected --flag value pairs\n";
      return 2;
    }
    k = k.substr(2);
    if (k == "n")
      n = std::stoul(argv[i + 1]);
    else if (k == "idle-sessions")
      idle = std::stoul(argv[i + 1]);
    else if (k == "connect")
      connect = argv[i + 1];
    else if (k == "window")
      window = std::stoul(argv[i + 1]);
    else if (k == "phases")
      only = "," + std::string{argv[i + 1]} + ",";
    else
      flags[k] = argv[i + 1];
  }
  auto cfg = settings::load(flags);
  if (!cfg) {
    std::cerr << cfg.error().render() << '\n';
    return 2;
  }
  // In-process (an engine here) or remote (a client of `authstore serve`,
  // secret from AUTHSTORE_SECRET or --remote.secret-file): the same driver
  // measures both through a router_actor handle.
  auto t0 = clock_type::now(); // phase starts are reported from here
  std::unique_ptr<engine> local;
  std::unique_ptr<remote_client> client;
  caf::actor_system* sys = nullptr;
  router_actor router;
  if (connect.empty()) {
    auto started = engine::start(*cfg);
    if (!started) {
      std::cerr << started.error().render() << '\n';
      return 1;
    }
    local = std::move(*started);
    sys = &engine_system(*local);
    router = engine_router(*local);
  } else {
    auto opts = remote_options::from(*cfg);
    auto colon = connect.rfind(':');
    if (!opts || colon == std::string::npos) {
      std::cerr << "latency_bench: --connect HOST:PORT and a secret\n";
      return 2;
    }
    auto c = remote_client::connect(
      connect.substr(0, colon),
      static_cast<uint16_t>(std::stoi(connect.substr(colon + 1))), *opts);
    if (!c) {
      std::cerr << c.error().render() << '\n';
      return 1;
    }
    client = std::move(*c);
    sys = &remote_client_system(*client);
    router = remote_client_session(*client);
    idle = 0; // memory is the server's, measured in-process
  }
  session_store& store = local ? static_cast<session_store&>(*local)
                               : static_cast<session_store&>(*client);
  // Seed state the reads need: creds for the cached read, 10 000 pre-keys
  // for the uncached key reads (more than the per-session key cache holds).
  for (size_t batch = 0; batch < 10; ++batch) {
    patch p;
    for (size_t k = 0; k < 1000; ++k)
      p.set_key("pre-key", std::to_string(batch * 1000 + k), buf32(k));
    if (!store.set("bench-keys", std::move(p))) {
      std::cerr << "latency_bench: cannot seed Redis\n";
      return 1;
    }
  }
  // The baseline's peer: answers every number with itself.
  auto echo = sys->spawn([]() -> caf::behavior {
    return {[](uint64_t x) {
      return x;
    }};
  });
  std::vector<phase> phases = {
    {"set_creds_small", n,
     [router](caf::event_based_actor* self, size_t i, done_fn done) {
       patch p;
       p.set_creds("accountSyncCounter", std::to_string(i));
       ask<uint64_t>(self, router, done, set_atom::value,
                     std::string{"bench-creds"}, std::move(p));
     }},
    {"get_creds_cached", n,
     [router](caf::event_based_actor* self, size_t, done_fn done) {
       ask<creds_reply>(self, router, done, get_creds_atom::value,
                        std::string{"bench-creds"});
     }},
    {"get_creds_cached_nt", n,
     [router](caf::event_based_actor* self, size_t, done_fn done) {
       ask_nt<creds_reply>(self, router, done, get_creds_atom::value,
                           std::string{"bench-creds"});
     }},
    {"caf_ping", n,
     [echo](caf::event_based_actor* self, size_t, done_fn done) {
       ask_nt<uint64_t>(self, echo, done, uint64_t{1});
     }},
    {"caf_ping_timeout", n,
     [echo](caf::event_based_actor* self, size_t, done_fn done) {
       self->request(echo, std::chrono::seconds{10}, uint64_t{1})
         .then([done](uint64_t) { done(true); },
               [done](caf::error&) { done(false); });
     }},
    {"set_creds_small_nt", n,
     [router](caf::event_based_actor* self, size_t i, done_fn done) {
       patch p;
       p.set_creds("accountSyncCounter", std::to_string(i));
       ask_nt<uint64_t>(self, router, done, set_atom::value,
                        std::string{"bench-creds"}, std::move(p));
     }},
    {"set_prekeys_10", n / 4,
     [router](caf::event_based_actor* self, size_t i, done_fn done) {
       patch p;
       for (size_t k = 0; k < 10; ++k)
         p.set_key("pre-key", std::to_string(i * 10 + k), buf32(k));
       ask<uint64_t>(self, router, done, set_atom::value,
                     std::string{"bench-prekeys"}, std::move(p));
     }},
    {"set_creds_small_w" + std::to_string(window), n,
     [router, window](caf::event_based_actor* self, size_t i, done_fn done) {
       patch p;
       p.set_creds("accountSyncCounter", std::to_string(i));
       ask<uint64_t>(self, router, done, set_atom::value,
                     "bench-w-" + std::to_string(i % window), std::move(p));
     },
     window},
    {"get_creds_cached_w" + std::to_string(window), n,
     [router, window](caf::event_based_actor* self, size_t i, done_fn done) {
       ask<creds_reply>(self, router, done, get_creds_atom::value,
                        "bench-w-" + std::to_string(i % window));
     },
     window},
    {"get_keys_uncached", n,
     [router](caf::event_based_actor* self, size_t i, done_fn done) {
       ask<keys_reply>(self, router, done, get_keys_atom::value,
                       std::string{"bench-keys"}, std::string{"pre-key"},
                       std::vector<std::string>{std::to_string(i % 10000)});
     }},
  };
  if (!only.empty()) {
    std::vector<phase> kept;
    for (auto& ph : phases)
      if (only.find("," + ph.name + ",") != std::string::npos)
        kept.push_back(std::move(ph));
    phases = std::move(kept);
  }
  std::map<std::string, std::unique_ptr<latency_histogram>> hist;
  std::map<std::string, uint64_t> errors;
  for (auto& ph : phases)
    hist[ph.name] = std::make_unique<latency_histogram>();
  std::atomic<bool> finished{false};
  std::map<std::string, double> seconds;
  std::map<std::string, double> starts;
  sys->spawn([&](caf::stateful_actor<driver_state>* self) {
    self->state.phases = phases;
    self->state.hist = &hist;
    self->state.errors = &errors;
    self->state.finished = &finished;
    self->state.seconds = &seconds;
    self->state.starts = &starts;
    self->state.t0 = t0;
    self->send(self, caf::atom("go"));
    return caf::behavior{[=](caf::atom_value) {
      start_phase(self);
    }};
  });
  // The watchdog of the _nt phases: every phase together within 10 min.
  auto bound = clock_type::now() + std::chrono::minutes{10};
  while (!finished.load()) {
    if (clock_type::now() > bound) {
      std::cerr << "latency_bench: phases did not finish within 10 min\n";
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  caf::anon_send_exit(echo, caf::exit_reason::user_shutdown);
  // The blocking convenience API: one scoped_actor per call.
  const bool blocking
    = only.empty()
      || only.find(",set_creds_small_blocking,") != std::string::npos;
  if (blocking)
    hist["set_creds_small_blocking"] = std::make_unique<latency_histogram>();
  for (size_t i = 0; blocking && i < n / 4; ++i) {
    patch p;
    p.set_creds("accountSyncCounter", std::to_string(i));
    auto t0 = clock_type::now();
    auto ok = store.set("bench-blocking", std::move(p));
    hist["set_creds_small_blocking"]->record(clock_type::now() - t0);
    if (!ok)
      ++errors["set_creds_small_blocking"];
  }
  // Memory per idle live session actor.
  auto rss0 = current_rss_bytes();
  {
    caf::scoped_actor self{*sys};
    const size_t window = 100;
    size_t sent = 0, received = 0;
    while (received < idle) {
      while (sent < idle && sent - received < window)
        self->send(router, exists_atom::value,
                   "idle-" + std::to_string(sent++));
      self->receive([&](bool) { ++received; },
                    [&](caf::error&) { ++received; });
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  auto rss1 = current_rss_bytes();
  json out;
  out["n"] = n;
  out["operations"] = json::object();
  for (auto& [name, h] : hist) {
    out["operations"][name] = summary(*h, errors[name]);
    if (auto i = seconds.find(name); i != seconds.end() && i->second > 0)
      out["operations"][name]["throughput_ops_s"]
        = static_cast<double>(h->count()) / i->second;
    if (auto i = starts.find(name); i != starts.end())
      out["operations"][name]["start_s"] = i->second;
  }
  out["mode"] = connect.empty() ? "in-process" : "remote " + connect;
  out["idle_sessions"] = idle;
  out["idle_rss_growth_bytes"] = rss1 > rss0 ? rss1 - rss0 : 0;
  out["bytes_per_idle_session"]
    = idle ? (rss1 > rss0 ? rss1 - rss0 : 0) / static_cast<double>(idle) : 0.0;
  out["scheduler"]
    = {{"max_threads", cfg->scheduler_max_threads()},
       {"moderate_sleep_us", cfg->scheduler_moderate_sleep_us().count()}};
  std::cout << out.dump(2) << '\n';
  return 0;
}
