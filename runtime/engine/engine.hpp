// engine.hpp -- the in-process C++ API: spawn the engine, call it.
//
// Implements session_store (runtime/node/session_store.hpp), like the remote
// client, so callers can use either. CAF-free on purpose: a program that
// only wants to store auth state includes this header and links
// authstore_engine, without paying CAF's compile cost. Asynchronous,
// actor-level access (many requests in flight) is in
// runtime/engine/engine_actors.hpp.
//
// Usage (examples/in_process.cpp between its markers, compiled and run by
// CTest; tests/unit/docs_snippets_test.cpp keeps this copy equal to it):
//
// clang-format off
//   std::map<std::string, std::string> flags;
//   if (argc > 1)
//     flags["redis"] = argv[1];
//   auto cfg = settings::load(flags); // flags > AUTHSTORE_* env > file > default
//   if (!cfg) {
//     std::cerr << cfg.error().render() << '\n';
//     return 2;
//   }
//   auto store = engine::start(*cfg);
//   if (!store) {
//     std::cerr << store.error().render() << '\n';
//     return 1;
//   }
//   auto& e = **store;
//   // Baileys' saveCreds + keys.set in one atomic patch; the number-array
//   // Buffer is normalized to the v7 form on the way in.
//   auto v = e.set_json("example-5511999", R"({
//     "creds": {"registered": true, "me": {"id": "5511999@s.whatsapp.net"}},
//     "keys": {"pre-key": {"1": {"public": {"type": "Buffer", "data": [1, 2, 3]}}}}
//   })");
//   if (!v) {
//     std::cerr << "set failed: " << v.error().render() << '\n';
//     return 1;
//   }
//   auto creds = e.get_creds("example-5511999"); // found=false: no session
//   auto keys = e.get_keys("example-5511999", "pre-key", {"1", "2"});
// clang-format on
//
// Every call is bounded by session.request-timeout-ms; errors are
// authstore::failure values whose code is a stable token (errors.hpp).
// "Not found" is never an error: get_creds answers found=false.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"
#include "messages/model.hpp"
#include "messages/patch_json.hpp"
#include "runtime/node/config.hpp"
#include "runtime/node/session_store.hpp"

namespace authstore {

struct engine_options;
class engine;

/// How prepare_cold_store treats the schema.
enum class cold_prepare : uint8_t {
  /// As a starting node: PostgreSQL's schema as cold.migrate allows.
  as_configured,
  /// As `authstore migrate`: create or upgrade PostgreSQL's schema.
  migrate,
  /// As `authstore migrate --check`: change nothing; PostgreSQL's schema
  /// must be this build's version (MongoDB: the server must answer).
  check,
};

/// Checks the cold store's configuration without connecting: a known
/// scheme, a URI the backend's client parses, bounds in range (what
/// engine::start checks first). invalid_config naming the problem, or
/// no_cold_store without one.
outcome<bool> check_cold_config(const settings& cfg);

/// What prepare_cold_store found and did.
struct cold_store_report {
  /// "mongodb" or "postgresql".
  std::string backend;
  /// The URI, password redacted.
  std::string target;
  /// PostgreSQL: the schema version found and now in place (-1: MongoDB).
  int32_t schema_found = -1;
  int32_t schema_now = -1;
  /// One line for people: what is in place.
  std::string detail;
};

/// Connects to the configured cold store on this thread and makes it ready
/// (PostgreSQL: the schema as `how` allows, the role's privileges, a
/// writable server; MongoDB: its index), before anything is served. The
/// error names what to fix: no_cold_store, invalid_config (a bad URI, auth,
/// privileges, a schema of another version), cold_unavailable (the server
/// cannot be reached).
outcome<cold_store_report> prepare_cold_store(const settings& cfg,
                                              cold_prepare how);

/// engine::start with options (runtime/engine/engine_actors.hpp).
outcome<std::unique_ptr<engine>> start_engine(const settings& cfg,
                                              engine_options opts);

class engine : public session_store {
public:
  /// Spawns the actor graph (Redis pool, router) as configured. Does not
  /// wait for Redis: a down Redis shows up as hot_unavailable on calls.
  static outcome<std::unique_ptr<engine>> start(const settings& cfg);

  /// Stops the actors in reverse order of start; requests still queued are
  /// answered with an error, none is dropped silently.
  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  // The session_store operations: their contract is documented once, in
  // runtime/node/session_store.hpp; here they run in this process.
  outcome<uint64_t> set(const std::string& sid, patch p) override;
  outcome<creds_reply> get_creds(const std::string& sid) override;
  outcome<keys_reply> get_keys(const std::string& sid, const std::string& type,
                               const std::vector<std::string>& ids) override;
  outcome<bool> del(const std::string& sid) override;
  outcome<bool> touch(const std::string& sid) override;
  outcome<bool> exists(const std::string& sid) override;
  outcome<session_snapshot> read_session(const std::string& sid) override;
  outcome<session_page> list_sessions(const std::string& cursor,
                                      uint32_t count) override;
  const patch_limits& limits() const override;

  /// The settings the engine runs with.
  const settings& config() const;

  /// Every metric in the Prometheus text format (what /metrics serves).
  std::string metrics_text() const;

  /// Operator control of the cold store's circuit: `open` rejects every
  /// cold-store call until called again with false (back to automatic,
  /// closed with a fresh window). no_cold_store without a cold store.
  outcome<bool> force_cold_open(bool open);

  /// With cluster.enabled (issue #19): joins the membership under
  /// middleman `address` (host:port), heartbeating from now on; authstore
  /// serve calls it once its port is published. Does nothing otherwise.
  void join_cluster(const std::string& address);

  struct impl;
  impl& internals() { return *impl_; }

private:
  friend outcome<std::unique_ptr<engine>> start_engine(const settings& cfg,
                                                       engine_options opts);
  explicit engine(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace authstore
