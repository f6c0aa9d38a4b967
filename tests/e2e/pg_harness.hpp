// pg_harness.hpp -- what the PostgreSQL end-to-end tests share: the
// environment of an `authstore serve` node on a real PostgreSQL (a private
// server the test owns: tests/postgres/pg_server.hpp) with the outbox tuned
// for tests, a scrape of its /metrics, and the checks every case ends with,
// read outside the code under test:
//   - cold == hot: for every session, the rows in PostgreSQL (plain SQL
//     through libpq, not pg_store) hold exactly the fields, values and
//     version Redis holds;
//   - read-through: a fresh node on a fresh, empty Redis reads every
//     session back from PostgreSQL alone, value for value, at its version.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runtime/remote/client.hpp"
#include "runtime/sim/private_redis.hpp"
#include "runtime/sim/traffic.hpp"
#include "tests/e2e/remote_harness.hpp"
#include "tests/http_get.hpp"
#include "tests/postgres/pg_server.hpp"
#include "tests/redis/outbox_support.hpp"

namespace pg_e2e {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;

/// A free loopback port for a node's /metrics.
inline uint16_t free_port() {
  auto p = free_loopback_port();
  REQUIRE(p);
  return *p;
}

/// The environment of a serve node on `server` (schema "authstore"): fast
/// outbox ticks and backoffs, short breaker periods, and `http_port` for
/// /metrics (0: off). `extra` entries ("AUTHSTORE_X=v") come last and win.
inline std::vector<std::string> node_env(const pg_server& server,
                                         uint16_t http_port = 0,
                                         std::vector<std::string> extra = {}) {
  std::vector<std::string> env
    = {"AUTHSTORE_SECRET=" + remote_test::secret,
       "AUTHSTORE_COLD_URI=" + server.uri(),
       "AUTHSTORE_OUTBOX_INTERVAL_MS=200",
       "AUTHSTORE_OUTBOX_GRACE_MS=500",
       "AUTHSTORE_OUTBOX_BACKOFF_BASE_MS=200",
       "AUTHSTORE_OUTBOX_BACKOFF_MAX_MS=2000",
       "AUTHSTORE_COLD_OPEN_BASE_S=1",
       "AUTHSTORE_COLD_OPEN_MAX_S=2",
       "AUTHSTORE_COLD_CALL_TIMEOUT_MS=1500",
       "AUTHSTORE_HTTP_PORT=" + std::to_string(http_port)};
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

inline std::unique_ptr<remote_client>
connect(const remote_test::serve_process& p) {
  auto c = remote_client::connect("127.0.0.1", p.port(),
                                  remote_test::client_options());
  INFO("connect: " << describe(c));
  REQUIRE(static_cast<bool>(c));
  return std::move(*c);
}

/// /metrics of a node.
inline std::string scrape(uint16_t http_port) {
  auto r = http_get(http_port, "/metrics");
  REQUIRE(r.status == 200);
  return r.body;
}

/// One writer thread: one remote client, its own sessions, one write in
/// flight, a short pause between writes. Each write sets two creds fields,
/// overwrites a session record, adds a pre-key and deletes an older one --
/// the shape of Baileys' writes. When `phase` is set, each write's latency
/// is recorded under the phase it started in (-1: not recorded).
struct writer {
  std::vector<std::string> sids;
  const std::atomic<int>* phase = nullptr;
  std::unique_ptr<remote_client> client;
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  uint64_t next = 0;
  /// Write latencies in ns by phase; read only after join.
  std::array<std::vector<int64_t>, 3> latency;
  std::string last_error;

  void start(std::unique_ptr<remote_client> c) {
    client = std::move(c);
    stop = false;
    thread = std::thread{[this] {
      while (!stop) {
        auto i = next++;
        const auto& sid = sids[i % sids.size()];
        auto p = phase ? phase->load() : -1;
        auto t0 = std::chrono::steady_clock::now();
        auto v = client->set(sid, fault_writer_patch(i / sids.size()));
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - t0)
                    .count();
        if (v) {
          ++ok;
          if (p >= 0)
            latency[static_cast<size_t>(p)].push_back(ns);
        } else {
          ++failed;
          last_error = v.error().render();
        }
        std::this_thread::sleep_for(4ms);
      }
    }};
  }

  void halt() {
    stop = true;
    if (thread.joinable())
      thread.join();
    client.reset();
  }
};

/// A session as PostgreSQL holds it, read with plain SQL: the watermark v,
/// the delete mark dv, and the live fields (above dv, not tombstones).
struct cold_rows {
  bool session_row = false;
  uint64_t v = 0, dv = 0;
  std::map<std::string, std::string> fields;
  /// The greatest v of a live field (0: none).
  uint64_t newest_field = 0;
};

inline std::string unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

inline cold_rows read_cold(pg_client& db, const std::string& sid,
                           const std::string& schema = "authstore") {
  cold_rows c;
  // The session id is a test's own (allow-listed charset): safe to quote.
  std::string row;
  REQUIRE(db.exec("SELECT v || ',' || dv FROM \"" + schema
                    + "\".sessions WHERE sid = '" + sid + "'",
                  &row));
  if (!row.empty()) {
    c.session_row = true;
    auto comma = row.find(',');
    c.v = std::stoull(row.substr(0, comma));
    c.dv = std::stoull(row.substr(comma + 1));
  }
  // One row of text per field: hex(field) ':' v ':' hex(val), joined.
  std::string all;
  REQUIRE(db.exec("SELECT coalesce(string_agg(encode(convert_to(field, "
                  "'UTF8'), 'hex') || ':' || v || ':' || encode(val, 'hex'), "
                  "' '), '') FROM \""
                    + schema + "\".fields WHERE sid = '" + sid
                    + "' AND val IS NOT NULL AND v > " + std::to_string(c.dv),
                  &all));
  for (size_t at = 0; at < all.size();) {
    auto end = all.find(' ', at);
    if (end == std::string::npos)
      end = all.size();
    auto item = all.substr(at, end - at);
    auto a = item.find(':'), b = item.find(':', a + 1);
    uint64_t v = std::stoull(item.substr(a + 1, b - a - 1));
    c.fields[unhex(item.substr(0, a))] = unhex(item.substr(b + 1));
    c.newest_field = std::max(c.newest_field, v);
    at = end + 1;
  }
  return c;
}

/// "" when PostgreSQL holds what Redis holds for `sid`, else what differs.
inline std::string cold_differs_sql(raw_redis& r, pg_client& db,
                                    const std::string& sid) {
  auto hot = read_hot(r, sid);
  auto cold = read_cold(db, sid);
  if (cold.fields != hot.fields)
    return sid + ": fields differ (hot " + std::to_string(hot.fields.size())
           + ", cold " + std::to_string(cold.fields.size()) + ")";
  auto version = std::max(cold.v, cold.newest_field);
  if (version != hot.version)
    return sid + ": version hot " + std::to_string(hot.version) + ", cold "
           + std::to_string(version);
  return {};
}

/// Every session's cold copy equals its hot one (and the index is empty).
inline void require_cold_equals_hot(raw_redis& r, pg_client& db,
                                    const std::vector<std::string>& sids) {
  CHECK(backlog(r) == 0);
  size_t differ = 0;
  for (const auto& sid : sids) {
    auto diff = cold_differs_sql(r, db, sid);
    if (!diff.empty() && ++differ <= 5)
      UNSCOPED_INFO(diff);
  }
  CHECK(differ == 0);
}

/// A fresh, empty Redis and a node on it with the same PostgreSQL: every
/// session is read back by read-through and must equal what the first
/// Redis holds (creds field by field, every key byte for byte, the
/// version). cold.migrate never: the fresh node only checks the schema.
inline void
require_read_through_equals_hot(raw_redis& hot_redis, const pg_server& server,
                                const std::vector<std::string>& sids) {
  auto fresh = start_redis();
  auto node = remote_test::serve_process::start(
    fresh->url(), {}, node_env(server, 0, {"AUTHSTORE_COLD_MIGRATE=never"}));
  REQUIRE(node);
  auto c = connect(*node);
  size_t differ = 0;
  auto note = [&](const std::string& what) {
    if (++differ <= 5)
      UNSCOPED_INFO(what);
  };
  for (const auto& sid : sids) {
    auto hot = read_hot(hot_redis, sid);
    auto creds = c->get_creds(sid);
    if (!creds) {
      note(sid + ": get_creds " + creds.error().render());
      continue;
    }
    if (creds->version != hot.version)
      note(sid + ": version " + std::to_string(creds->version) + ", hot "
           + std::to_string(hot.version));
    auto doc = nlohmann::json::parse(creds->creds_json);
    std::map<std::string, std::vector<std::string>> ids;
    size_t hot_creds = 0;
    for (const auto& [field, value] : hot.fields) {
      if (field.rfind("c:", 0) == 0) {
        ++hot_creds;
        auto name = field.substr(2);
        if (!doc.contains(name) || doc[name] != nlohmann::json::parse(value))
          note(sid + ": creds field " + name + " differs");
      } else {
        auto slash = field.find('/');
        ids[field.substr(2, slash - 2)].push_back(field.substr(slash + 1));
      }
    }
    if (doc.size() != hot_creds)
      note(sid + ": creds fields " + std::to_string(doc.size()) + ", hot "
           + std::to_string(hot_creds));
    for (const auto& [type, list] : ids) {
      auto keys = c->get_keys(sid, type, list);
      if (!keys) {
        note(sid + ": get_keys " + keys.error().render());
        continue;
      }
      for (const auto& id : list) {
        auto i = keys->values.find(id);
        if (i == keys->values.end()
            || i->second != hot.fields.at("k:" + type + "/" + id))
          note(sid + ": key " + type + "/" + id + " differs");
      }
    }
  }
  CHECK(differ == 0);
}

} // namespace pg_e2e
