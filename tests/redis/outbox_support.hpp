// outbox_support.hpp -- shared helpers of the outbox tests: an engine whose
// cold worker is the in-process fake (tests/actor/fake_cold_worker.hpp),
// the hot state of a session as Redis holds it, and the check that the cold
// store equals it.
//
// Why: every outbox test ends the same way -- "the backlog drained and the
// cold store matches Redis for every session" -- and that check must read
// Redis directly (raw_redis), not through the code under test.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <thread>

#include "runtime/engine/engine_actors.hpp"
#include "tests/actor/fake_cold_worker.hpp"
#include "tests/polling.hpp"
#include "tests/redis/redis_test_support.hpp"

namespace authstore::test {

/// Settings that make the outbox fast enough for tests: 100 ms ticks, a
/// 300 ms grace, short backoffs and breaker periods. mongodb.uri is a
/// placeholder: it switches the cold path on; the fake replaces the worker.
inline std::map<std::string, std::string>
outbox_settings(std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> s = {
    {"mongodb.uri", "mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=100"},
    {"outbox.interval-ms", "100"},
    {"outbox.grace-ms", "300"},
    {"outbox.backoff-base-ms", "100"},
    {"outbox.backoff-max-ms", "1000"},
    {"cold.open-base-s", "1"},
    {"cold.open-max-s", "2"},
    {"cold.call-timeout-ms", "500"},
  };
  for (auto& [k, v] : extra)
    s[k] = v;
  return s;
}

/// An engine whose cold worker is a fake sharing `ctl`.
inline std::unique_ptr<engine>
start_fake_cold_engine(const std::string& url,
                       std::shared_ptr<testing::fake_cold_control> ctl,
                       std::map<std::string, std::string> extra = {}) {
  engine_options opts;
  opts.cold_worker = testing::fake_cold_factory(ctl);
  auto e = start_engine(test_settings(url, outbox_settings(std::move(extra))),
                        std::move(opts));
  INFO("start_engine: " << describe(e));
  REQUIRE(static_cast<bool>(e));
  return std::move(*e);
}

/// A session as Redis holds it: version, deleted flag, live fields by name
/// ("c:..." / "k:...").
struct hot_session {
  uint64_t version = 0;
  bool deleted = false;
  std::map<std::string, std::string> fields;
};

inline hot_session read_hot(raw_redis& r, const std::string& sid) {
  hot_session h;
  auto v = r.text({"HGET", "as:{" + sid + "}:m", "v"});
  h.version = v == "<nil>" ? 0 : std::stoull(v);
  h.deleted = r.text({"HGET", "as:{" + sid + "}:m", "d"}) != "<nil>";
  for (const char* kind : {"c", "k"}) {
    auto all = r.command({"HGETALL", "as:{" + sid + "}:" + kind});
    REQUIRE(all->type == REDIS_REPLY_ARRAY);
    for (size_t i = 0; i + 1 < all->elements; i += 2)
      h.fields[std::string{kind} + ":"
               + std::string(all->element[i]->str, all->element[i]->len)]
        = std::string(all->element[i + 1]->str, all->element[i + 1]->len);
  }
  return h;
}

/// "" when the cold store equals Redis for `sid`, else what differs.
inline std::string cold_differs(raw_redis& r, testing::fake_cold_control& ctl,
                                const std::string& sid) {
  auto hot = read_hot(r, sid);
  auto cold = ctl.view(sid);
  std::map<std::string, std::string> cold_fields;
  for (const auto& w : cold.fields)
    cold_fields[w.field] = w.value;
  if (cold_fields != hot.fields)
    return sid + ": fields differ (hot " + std::to_string(hot.fields.size())
           + ", cold " + std::to_string(cold_fields.size()) + ")";
  if (cold.version != hot.version)
    return sid + ": version hot " + std::to_string(hot.version) + " cold "
           + std::to_string(cold.version);
  bool hot_found = !hot.fields.empty();
  if (cold.found != hot_found)
    return sid + ": found hot " + std::to_string(hot_found) + " cold "
           + std::to_string(cold.found);
  return {};
}

/// Makes `sids` known to Redis while the cold store still answers: an
/// exists() loads each from the cold store (read-through), which leaves a
/// tombstone for a session neither store has. Tests that leave sessions
/// dirty behind a failing cold store call this first: a session Redis
/// does not know cannot be written without asking the cold store whether
/// it exists (redis/layout.hpp, read-through).
inline void make_known(engine& e, const std::vector<std::string>& sids) {
  for (const auto& sid : sids) {
    auto known = e.exists(sid);
    INFO(sid << ": " << describe(known));
    REQUIRE(known);
  }
}

/// Sessions in the dirty index.
inline long long backlog(raw_redis& r) {
  return r.integer({"ZCARD", "as:dirty"});
}

/// A one-field creds patch.
inline patch creds_patch(const std::string& field, const std::string& json) {
  patch p;
  p.set_creds(field, json);
  return p;
}

} // namespace authstore::test
