// redis_test_support.hpp -- shared helpers of the *_redistest.cpp files.
//
// Why: every Redis integration test needs the same three things: a private
// redis-server it may pause or kill (never the shared one), an engine
// configured against it, and a raw hiredis connection to look at what the
// engine really stored (keys, versions, TTLs, command counters) without
// going through the code under test.
//
// Guarantees: each test owns its server (started by private_redis::start, so
// no persistence, loopback only, stopped and removed by the destructor);
// session ids are unique per process and call. Helpers fail the running
// Catch2 test (REQUIRE) instead of returning errors, except where the error
// is what a test inspects. CAF-free.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include "messages/errors.hpp"
#include "redis/connection.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/node/config.hpp"
#include "runtime/sim/private_redis.hpp"

namespace authstore::test {

using std::chrono::milliseconds;
using std_clock = std::chrono::steady_clock;

/// "ok", or the failure as "token: detail" (for test messages).
template <class T>
std::string describe(const outcome<T>& x) {
  return x ? std::string{"ok"} : x.error().render();
}

/// Starts a private redis-server (extra command-line options appended).
inline std::unique_ptr<private_redis>
start_redis(std::vector<std::string> extra_args = {}) {
  auto s = private_redis::start("redis-server", std::move(extra_args));
  INFO("starting redis-server: " << describe(s));
  REQUIRE(static_cast<bool>(s));
  return std::move(*s);
}

/// Settings for a test: defaults, `redis.url`, then `overrides`, through
/// settings::load, so the cross-setting rules are checked as at startup.
inline settings test_settings(const std::string& url,
                              std::map<std::string, std::string> overrides
                              = {}) {
  overrides["redis.url"] = url;
  auto cfg = settings::load(overrides);
  INFO("test settings: " << describe(cfg));
  REQUIRE(static_cast<bool>(cfg));
  return *cfg;
}

/// Starts an engine against `url`, configured with `overrides`.
inline std::unique_ptr<engine>
start_engine(const std::string& url,
             std::map<std::string, std::string> overrides = {}) {
  auto e = engine::start(test_settings(url, std::move(overrides)));
  INFO("engine::start: " << describe(e));
  REQUIRE(static_cast<bool>(e));
  return std::move(*e);
}

/// A session id no other test (or run of this process) uses.
inline std::string unique_sid(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-"
         + std::to_string(++counter);
}

/// Milliseconds since `start`.
inline int64_t ms_since(std_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(std_clock::now() - start)
    .count();
}

/// The errc token of a failed outcome, or "ok" when it succeeded (so a
/// CHECK on the token prints what actually happened).
template <class T>
std::string token_of(const outcome<T>& x) {
  return x ? std::string{"ok"} : std::string{to_string(x.error().code)};
}

/// A raw hiredis connection for inspecting what the engine stored.
class raw_redis {
public:
  using reply = std::unique_ptr<redisReply, void (*)(void*)>;

  /// To 127.0.0.1:`port`, database 0.
  explicit raw_redis(uint16_t port) : raw_redis(loopback(port)) {}

  /// To `ep`: TCP or unix socket, AUTH and SELECT as the URL says.
  explicit raw_redis(const redis_endpoint& ep) {
    timeval tv{2, 0};
    ctx_ = ep.transport == "unix"
             ? redisConnectUnixWithTimeout(ep.socket_path.c_str(), tv)
             : redisConnectWithTimeout(ep.host.c_str(), ep.port, tv);
    REQUIRE(ctx_ != nullptr);
    REQUIRE(ctx_->err == 0);
    redisSetTimeout(ctx_, tv);
    if (!ep.password.empty()) {
      std::vector<std::string> auth{"AUTH"};
      if (!ep.user.empty())
        auth.push_back(ep.user);
      auth.push_back(ep.password);
      REQUIRE(text(auth) == "OK");
    }
    if (ep.database != 0)
      REQUIRE(text({"SELECT", std::to_string(ep.database)}) == "OK");
  }
  ~raw_redis() {
    if (ctx_)
      redisFree(ctx_);
  }
  raw_redis(const raw_redis&) = delete;
  raw_redis& operator=(const raw_redis&) = delete;

  /// Runs one command (argv form: binary-safe, no command text building).
  reply command(const std::vector<std::string>& argv) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(redisCommandArgv(
      ctx_, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    REQUIRE(r != nullptr);
    return reply{r, freeReplyObject};
  }

  /// An integer reply.
  long long integer(const std::vector<std::string>& argv) {
    auto r = command(argv);
    REQUIRE(r->type == REDIS_REPLY_INTEGER);
    return r->integer;
  }

  /// A bulk string reply; "<nil>" for nil.
  std::string text(const std::vector<std::string>& argv) {
    auto r = command(argv);
    if (r->type == REDIS_REPLY_NIL)
      return "<nil>";
    REQUIRE((r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS));
    return std::string(r->str, r->len);
  }

  /// One numeric field of INFO (e.g. total_commands_processed).
  long long info_field(const std::string& section, const std::string& name) {
    auto all = text({"INFO", section});
    auto at = all.find(name + ":");
    REQUIRE(at != std::string::npos);
    return std::stoll(all.substr(at + name.size() + 1));
  }

private:
  static redis_endpoint loopback(uint16_t port) {
    redis_endpoint ep;
    ep.port = port;
    return ep;
  }

  redisContext* ctx_ = nullptr;
};

} // namespace authstore::test
