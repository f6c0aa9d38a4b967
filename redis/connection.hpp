// connection.hpp -- one hiredis connection, pipelined, with timeouts
// and capped reconnect backoff. CAF-free and blocking: only the detached
// redis actor (its own thread) calls it, never a scheduler thread.
//
// Design: execute() writes a whole batch of requests in one go and then
// reads the replies in order (a pipeline: one round trip for the batch).
// Scripts are loaded (SCRIPT LOAD) right after connecting and called with
// EVALSHA; a NOSCRIPT answer (SCRIPT FLUSH behind our back) reloads them and
// retries only the items that answered NOSCRIPT (which ran nothing), in
// their original order.
//
// Failure: any I/O error or timeout drops the connection and fails every
// item of the batch still waiting with hot_unavailable; the detail says that
// a write may or may not have been applied. Until the next reconnect attempt
// (backoff doubling from reconnect_min to reconnect_max, with jitter) calls
// fail at once with hot_unavailable -- no hang, no reconnect storm.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "messages/backoff.hpp"
#include "messages/errors.hpp"
#include "messages/redis_wire.hpp"

struct redisContext;

namespace authstore {

/// Where and how to reach Redis.
struct redis_endpoint {
  /// "tcp" or "unix".
  std::string transport = "tcp";
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string socket_path;
  std::string user;
  std::string password;
  int database = 0;

  /// The URL with any password replaced by "***" (safe for logs).
  std::string redacted() const;
};

/// Parses redis://[[user]:password@]host[:port][/db] and
/// unix://[[user]:password@]/path/to.sock[?db=N] (also redis+unix://).
outcome<redis_endpoint> parse_redis_url(const std::string& url);

/// Timeouts and backoff of one connection.
struct redis_connection_config {
  redis_endpoint endpoint;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
  std::chrono::milliseconds reconnect_min{50};
  std::chrono::milliseconds reconnect_max{2000};
};

/// Counters a connection keeps for metrics and the simulator.
struct redis_connection_stats {
  uint64_t round_trips = 0;
  uint64_t commands = 0;
  uint64_t reconnects = 0;
  uint64_t script_reloads = 0;
  uint64_t errors = 0;
};

/// Classifies a Redis error reply into an errc (the one place this happens).
errc classify_redis_error(const std::string& message);

class redis_connection {
public:
  using clock = std::chrono::steady_clock;

  explicit redis_connection(redis_connection_config cfg);
  ~redis_connection();
  redis_connection(const redis_connection&) = delete;
  redis_connection& operator=(const redis_connection&) = delete;

  /// Runs `batch` as one pipeline; one outcome per request, in order.
  std::vector<outcome<redis_reply>>
  execute(const std::vector<const redis_request*>& batch);

  /// Whether a connection is currently established.
  bool connected() const { return ctx_ != nullptr; }

  const redis_connection_stats& stats() const { return stats_; }

private:
  /// Connects (if the backoff allows), authenticates, selects, loads
  /// scripts. Returns a failure when not connected afterwards.
  outcome<bool> ensure_connected();
  void drop(const std::string& why);
  outcome<bool> load_scripts();
  /// invalid_config when the server runs in cluster mode (unsupported).
  outcome<bool> refuse_cluster();
  /// Appends `req` in the Redis protocol to out_ (sent by execute with one
  /// redisAppendFormattedCommand per pipeline).
  void append(const redis_request& req);

  redis_connection_config cfg_;
  redisContext* ctx_ = nullptr;
  std::map<redis_script, std::string> shas_;
  clock::time_point next_attempt_{};
  /// Failed connects (and drops) since the last successful connect.
  backoff reconnects_;
  std::string last_error_;
  /// Set while the server is refused as a cluster node: calls during the
  /// reconnect backoff repeat that error, not "down".
  std::string refused_;
  std::minstd_rand rng_{std::random_device{}()};
  redis_connection_stats stats_;
  /// The pipeline being built, in RESP (reused: no allocation per batch
  /// once it has grown).
  std::string out_;
};

} // namespace authstore
