// outage_bench.cpp -- hot write latency of an `authstore serve` node before,
// during and after a cold-store outage (issue #15: "hot write p99 during a
// 30 s SIGSTOP of PostgreSQL within 1.2x of healthy").
//
// Method (bench/pg/outage.sh starts PostgreSQL, redis-server and the node,
// and passes its hook): W writer threads, each with its own remote client
// (CAF middleman, as tests/e2e/pg_outage_e2etest.cpp's writers) and its own
// S sessions, one write in flight and a 4 ms pause between writes; each
// write has the shape of Baileys' writes (two creds fields, a session record
// of 600 bytes overwritten, a pre-key added and an older one deleted: the
// e2e writer's patch). Phases, each latency recorded under the phase it
// started in:
//   warm-up (not recorded; every session created) ->
//   healthy_before (H s) -> hook outage_start (the script SIGSTOPs
//   PostgreSQL) -> outage (O s) -> hook outage_end (SIGCONT) ->
//   recovery (not recorded, until `hook drained` exits 0: the backlog
//   drained) -> healthy_after (H s).
// The hook is run as `HOOK <event>` (std::system) at each phase's start and
// end too, so the script can sample counters per phase. With --redis-url
// and --slowlog, Redis's slowlog records every command (threshold 0) per
// phase, and the bench prints, per phase, the Lua scripts by call count and
// Redis time (the SHA mapped to its name by SCRIPT LOAD of every registered
// script): where the one Redis spends its time.
//
// Prints one JSON object: per phase n, failed, p50/p90/p99/p999/max in ms.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>
#include <nlohmann/json.hpp>

#include "redis/scripts.hpp"
#include "runtime/remote/client.hpp"
#include "runtime/sim/traffic.hpp"

using namespace authstore;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int phase_count = 3;
const char* phase_names[phase_count]
  = {"healthy_before", "outage", "healthy_after"};

std::atomic<int> phase{-1};

struct writer {
  std::vector<std::string> sids;
  std::unique_ptr<remote_client> client;
  std::thread thread;
  std::atomic<bool> stop{false};
  uint64_t next = 0;
  std::array<std::vector<int64_t>, phase_count> latency;
  std::array<uint64_t, phase_count> failed{};
  uint64_t failed_unrecorded = 0;
  std::string last_error;

  void start() {
    thread = std::thread{[this] {
      while (!stop) {
        auto i = next++;
        const auto& sid = sids[i % sids.size()];
        auto p = phase.load();
        auto t0 = clock_type::now();
        auto v = client->set(sid, fault_writer_patch(i / sids.size()));
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    clock_type::now() - t0)
                    .count();
        if (v && p >= 0)
          latency[static_cast<size_t>(p)].push_back(ns);
        if (!v) {
          last_error = v.error().render();
          if (p >= 0)
            ++failed[static_cast<size_t>(p)];
          else
            ++failed_unrecorded;
        }
        std::this_thread::sleep_for(4ms);
      }
    }};
  }
};

int run_hook(const std::string& hook, const std::string& event) {
  if (hook.empty())
    return 0;
  auto rc = std::system((hook + " " + event).c_str());
  return rc;
}

double quantile_ms(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty())
    return 0;
  auto i
    = std::min(sorted.size() - 1,
               static_cast<size_t>(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[i]) / 1e6;
}

/// Redis slowlog per phase (diagnostic): every command, by script name.
class slowlog {
public:
  bool open(const std::string& url) {
    // redis://host:port[/db]
    auto rest = url.substr(url.find("//") + 2);
    auto colon = rest.find(':');
    auto host = rest.substr(0, colon);
    auto port = std::stoi(rest.substr(colon + 1));
    ctx_ = redisConnect(host.c_str(), port);
    if (!ctx_ || ctx_->err)
      return false;
    for (auto s : redis_layout::all_scripts()) {
      auto src = std::string{redis_layout::script_source(s)};
      auto* r = static_cast<redisReply*>(
        redisCommand(ctx_, "SCRIPT LOAD %b", src.data(), src.size()));
      if (r && r->type == REDIS_REPLY_STRING)
        names_[std::string(r->str, r->len)]
          = std::string{redis_layout::script_name(s)};
      freeReplyObject(r);
    }
    command("CONFIG SET slowlog-max-len 2000000");
    command("CONFIG SET slowlog-log-slower-than 0");
    return true;
  }
  ~slowlog() {
    if (ctx_) {
      command("CONFIG SET slowlog-log-slower-than 10000");
      command("SLOWLOG RESET");
      redisFree(ctx_);
    }
  }
  void reset() {
    if (ctx_)
      command("SLOWLOG RESET");
  }
  /// Entries since the last reset, grouped by script (or command) name.
  nlohmann::json collect(double seconds) {
    nlohmann::json out = nlohmann::json::object();
    if (!ctx_)
      return out;
    auto* r = static_cast<redisReply*>(redisCommand(ctx_, "SLOWLOG GET -1"));
    struct agg {
      uint64_t n = 0, usec = 0, max_usec = 0;
    };
    std::map<std::string, agg> by;
    if (r && r->type == REDIS_REPLY_ARRAY)
      for (size_t i = 0; i < r->elements; ++i) {
        auto* e = r->element[i];
        if (e->elements < 4)
          continue;
        auto usec = static_cast<uint64_t>(e->element[2]->integer);
        auto* args = e->element[3];
        if (args->elements == 0)
          continue;
        std::string name(args->element[0]->str, args->element[0]->len);
        std::transform(name.begin(), name.end(), name.begin(), ::tolower);
        if (name == "evalsha" && args->elements > 1) {
          std::string sha(args->element[1]->str, args->element[1]->len);
          auto n = names_.find(sha);
          name = n == names_.end() ? "evalsha:" + sha : n->second;
        }
        if (name == "slowlog")
          continue;
        auto& a = by[name];
        ++a.n;
        a.usec += usec;
        a.max_usec = std::max(a.max_usec, usec);
      }
    freeReplyObject(r);
    for (auto& [name, a] : by)
      out[name]
        = {{"calls", a.n},
           {"calls_per_s", static_cast<double>(a.n) / seconds},
           {"redis_ms_per_s", static_cast<double>(a.usec) / 1e3 / seconds},
           {"usec_per_call",
            static_cast<double>(a.usec) / static_cast<double>(a.n)},
           {"max_usec", a.max_usec}};
    return out;
  }

private:
  void command(const char* text) { freeReplyObject(redisCommand(ctx_, text)); }
  redisContext* ctx_ = nullptr;
  std::map<std::string, std::string> names_;
};

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", hook, redis_url;
  uint16_t port = 0;
  size_t writers = 4, per_writer = 10;
  int healthy_s = 10, outage_s = 30, warm_s = 2, recover_max_s = 120;
  bool use_slowlog = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] {
      return i + 1 < argc ? std::string{argv[++i]} : "";
    };
    if (a == "--port")
      port = static_cast<uint16_t>(std::stoi(val()));
    else if (a == "--host")
      host = val();
    else if (a == "--writers")
      writers = std::stoul(val());
    else if (a == "--sessions-per-writer")
      per_writer = std::stoul(val());
    else if (a == "--healthy-s")
      healthy_s = std::stoi(val());
    else if (a == "--outage-s")
      outage_s = std::stoi(val());
    else if (a == "--hook")
      hook = val();
    else if (a == "--redis-url")
      redis_url = val();
    else if (a == "--slowlog")
      use_slowlog = true;
    else {
      std::cerr << "outage_bench: unknown argument " << a << "\n"
                << "usage: outage_bench --port P [--host H] [--writers W] "
                   "[--sessions-per-writer S] [--healthy-s H] [--outage-s O] "
                   "[--hook CMD] [--redis-url URL --slowlog]\n";
      return 2;
    }
  }
  remote_options opts;
  if (const char* s = std::getenv("AUTHSTORE_SECRET"))
    opts.secret = s;
  opts.threads = 1;
  std::vector<std::unique_ptr<writer>> ws;
  auto tag = std::to_string(
    std::chrono::system_clock::now().time_since_epoch().count() % 1000000007);
  for (size_t w = 0; w < writers; ++w) {
    auto x = std::make_unique<writer>();
    for (size_t s = 0; s < per_writer; ++s)
      x->sids.push_back("outage-" + tag + "-" + std::to_string(w) + "-"
                        + std::to_string(s));
    auto c = remote_client::connect(host, port, opts);
    if (!c) {
      std::cerr << "outage_bench: connect: " << c.error().render() << "\n";
      return 1;
    }
    x->client = std::move(*c);
    ws.push_back(std::move(x));
  }
  slowlog slow;
  if (use_slowlog && !slow.open(redis_url)) {
    std::cerr << "outage_bench: cannot open " << redis_url << "\n";
    return 1;
  }
  nlohmann::json scripts = nlohmann::json::object();
  auto measured = [&](int p, int seconds) {
    run_hook(hook, std::string{phase_names[p]} + "_start");
    slow.reset();
    phase = p;
    std::this_thread::sleep_for(std::chrono::seconds{seconds});
    phase = -1;
    scripts[phase_names[p]] = slow.collect(seconds);
    run_hook(hook, std::string{phase_names[p]} + "_end");
  };
  for (auto& w : ws)
    w->start();
  std::this_thread::sleep_for(std::chrono::seconds{warm_s});
  measured(0, healthy_s);
  run_hook(hook, "outage_begin"); // the script stops the cold store here
  measured(1, outage_s);
  run_hook(hook, "outage_over"); // ... and continues it here
  auto t0 = clock_type::now();
  bool drained = false;
  while (clock_type::now() - t0 < std::chrono::seconds{recover_max_s}) {
    std::this_thread::sleep_for(500ms);
    if (run_hook(hook, "drained") == 0) {
      drained = true;
      break;
    }
  }
  auto recover_s
    = std::chrono::duration<double>(clock_type::now() - t0).count();
  measured(2, healthy_s);
  for (auto& w : ws)
    w->stop = true;
  for (auto& w : ws)
    w->thread.join();

  nlohmann::json out;
  out["writers"] = writers;
  out["sessions"] = writers * per_writer;
  out["healthy_s"] = healthy_s;
  out["outage_s"] = outage_s;
  out["recovered"] = drained;
  out["recover_s"] = recover_s;
  uint64_t failed_unrecorded = 0;
  std::string last_error;
  for (int p = 0; p < phase_count; ++p) {
    std::vector<int64_t> all;
    uint64_t failed = 0;
    for (auto& w : ws) {
      all.insert(all.end(), w->latency[p].begin(), w->latency[p].end());
      failed += w->failed[p];
    }
    std::sort(all.begin(), all.end());
    out["phases"][phase_names[p]]
      = {{"n", all.size()},
         {"failed", failed},
         {"writes_per_s",
          static_cast<double>(all.size()) / (p == 1 ? outage_s : healthy_s)},
         {"p50_ms", quantile_ms(all, 0.5)},
         {"p90_ms", quantile_ms(all, 0.9)},
         {"p99_ms", quantile_ms(all, 0.99)},
         {"p999_ms", quantile_ms(all, 0.999)},
         {"max_ms", all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6}};
  }
  for (auto& w : ws) {
    failed_unrecorded += w->failed_unrecorded;
    if (!w->last_error.empty())
      last_error = w->last_error;
  }
  out["failed_unrecorded"] = failed_unrecorded;
  out["last_error"] = last_error;
  if (use_slowlog)
    out["redis_by_script"] = scripts;
  std::cout << out.dump(1) << "\n";
  return 0;
}
