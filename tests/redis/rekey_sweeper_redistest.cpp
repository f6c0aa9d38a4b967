// rekey_sweeper_redistest.cpp -- the background rekey sweep
// (actors/rekey_sweeper, crypto.rekey-sweep) against a real Redis (issue
// #17): it alone re-seals old-key and plaintext sessions with the active
// key, at most crypto.rekey-per-tick sessions per tick, without losing a
// client's concurrent write; a value it cannot open stays as it is and is
// counted once per walk; an engine stopped mid-walk leaves every session
// whole (old or new, never half).
//
// The sweep runs in an engine in this process; Redis is inspected raw
// (raw_redis), never through the code under test, and the final contents
// are read back by a fresh engine whose ring lacks the old key. Timing:
// the sweep's rate is a wall-clock property, so these tests use short
// intervals (100-200 ms) and generous deadlines, and each bound they check
// holds on a slow machine too (a loaded machine only makes the sweep
// slower, never faster).
#include "tests/redis/redis_test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/redis/crypto_test_support.hpp"

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace rekey_sweeper_redistest {

using namespace authstore;
using namespace authstore::test;
using namespace std::chrono_literals;

namespace {

/// Values per session of some_session().
constexpr int values_per_session = 4;

/// The engine's count of crypto values with `result` (metrics text).
uint64_t crypto_count(engine& e, const std::string& result) {
  auto text = e.metrics_text();
  auto name = R"(authstore_crypto_values_total{result=")" + result + "\"} ";
  auto at = text.find(name);
  REQUIRE(at != std::string::npos);
  return std::stoull(text.substr(at + name.size()));
}

/// Every stored value of session `sid` (both hashes), field -> value.
std::map<std::string, std::string> stored_values(raw_redis& raw,
                                                 const std::string& sid) {
  std::map<std::string, std::string> out;
  for (const char* kind : {"c", "k"}) {
    auto all = raw.command({"HGETALL", "as:{" + sid + "}:" + kind});
    for (size_t i = 0; i + 1 < all->elements; i += 2)
      out[std::string(kind) + "/"
          + std::string(all->element[i]->str, all->element[i]->len)]
        = std::string(all->element[i + 1]->str, all->element[i + 1]->len);
  }
  return out;
}

/// What protects the values of `sid`: "k2" when all are sealed with k2,
/// "plain" when none is sealed, "mixed" otherwise, and so on.
std::string protection(raw_redis& raw, const std::string& sid) {
  std::string seen;
  for (const auto& [field, v] : stored_values(raw, sid)) {
    std::string what = "plain";
    if (!v.empty() && v[0] == '~')
      what = v.substr(3, v.find('.', 3) - 3);
    if (seen.empty())
      seen = what;
    else if (seen != what)
      return "mixed";
  }
  return seen;
}

/// The session meta versions of `sids` (raw).
std::vector<std::string> versions(raw_redis& raw,
                                  const std::vector<std::string>& sids) {
  std::vector<std::string> out;
  for (const auto& sid : sids)
    out.push_back(raw.text({"HGET", "as:{" + sid + "}:m", "v"}));
  return out;
}

} // namespace

TEST_CASE("the rekey sweep alone re-seals old-key and plaintext sessions "
          "with the active key, at most per-tick sessions a tick, and a "
          "concurrent client write is never lost",
          "[crypto][redis][rekey-sweep]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  constexpr int sealed_sessions = 24;
  constexpr int plain_sessions = 6;
  constexpr int sessions = sealed_sessions + plain_sessions;
  constexpr int per_tick = 4;
  constexpr auto interval = 200ms;
  std::vector<std::string> sids;
  {
    auto e1 = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
    for (int i = 0; i < sealed_sessions; ++i) {
      sids.push_back(unique_sid("sweep"));
      REQUIRE(e1->set(sids.back(), some_session("s" + std::to_string(i))));
    }
  }
  {
    auto plain = start_engine(redis->url());
    for (int i = sealed_sessions; i < sessions; ++i) {
      sids.push_back(unique_sid("sweep-plain"));
      REQUIRE(plain->set(sids.back(), some_session("s" + std::to_string(i))));
    }
  }
  for (int i = 0; i < sessions; ++i)
    REQUIRE(protection(raw, sids[i]) == (i < sealed_sessions ? "k1" : "plain"));
  // Rotation: k2 active, k1 readable; the sweep is the only re-sealer.
  keys.write({"k2", "k1"});
  auto started = std_clock::now();
  auto e = start_engine(
    redis->url(),
    {{"crypto.key-file", keys.path},
     {"crypto.rekey-sweep", "true"},
     {"crypto.rekey-interval-ms", std::to_string(interval.count())},
     {"crypto.rekey-per-tick", std::to_string(per_tick)}});
  // A client writes one new creds field of the first 8 sessions while the
  // sweep runs: each write moves the version the sweep read, so a sweep
  // write without its version condition would put back the values read
  // before it (the client's field would be gone).
  std::atomic<bool> stop{false};
  std::map<std::string, int> last_written; // the writer's, read after join
  int write_failures = 0;
  std::thread writer([&] {
    for (int round = 1; !stop; ++round) {
      for (int i = 0; i < 8; ++i) {
        patch p;
        p.set_creds("counter", std::to_string(round));
        if (e->set(sids[i], p))
          last_written[sids[i]] = round;
        else
          ++write_failures;
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  // Samples of the re-sealed-values counter, to check the per-tick bound:
  // the clock read before and after each counter read bound when it was
  // read, whatever the scheduler does to this thread.
  struct sample {
    int64_t before_ms, after_ms;
    uint64_t count;
  };
  std::vector<sample> samples;
  bool all_k2 = false;
  auto deadline = started + 60s;
  while (!all_k2 && std_clock::now() < deadline) {
    for (int i = 0; i < 10; ++i) {
      auto before = ms_since(started);
      auto count = crypto_count(*e, "rekeyed");
      samples.push_back({before, ms_since(started), count});
      std::this_thread::sleep_for(10ms);
    }
    all_k2 = true;
    for (const auto& sid : sids)
      all_k2 = all_k2 && protection(raw, sid) == "k2";
  }
  auto took_ms = ms_since(started);
  stop = true;
  writer.join();
  INFO("sweep took " << took_ms << " ms");
  REQUIRE(all_k2);
  CHECK(write_failures == 0);
  // Every original value was re-sealed exactly once (the client's field was
  // sealed with k2 by its own write; a conflicting sweep write changes
  // nothing and the session is re-sealed by a later walk).
  auto rekeyed = crypto_count(*e, "rekeyed");
  CHECK(rekeyed == uint64_t{sessions * values_per_session});
  // The rate: at most per_tick sessions a tick, and a tick's work ends at
  // least `interval` before the next begins, so any span shorter than the
  // interval holds one tick's work at most (half an interval here).
  uint64_t most_in_half_interval = 0;
  for (size_t a = 0; a < samples.size(); ++a)
    for (size_t b = a + 1;
         b < samples.size()
         && samples[b].after_ms - samples[a].before_ms <= interval.count() / 2;
         ++b)
      most_in_half_interval
        = std::max(most_in_half_interval, samples[b].count - samples[a].count);
  CHECK(most_in_half_interval > 0);
  CHECK(most_in_half_interval <= uint64_t{per_tick * values_per_session});
  // 30 sessions at 4 a tick take 8 ticks; the first comes one interval
  // after the start and each next one at least an interval later.
  CHECK(took_ms >= 8 * interval.count());
  // It stops cleanly with its engine, and nothing writes afterwards.
  auto stopping = std_clock::now();
  e.reset();
  CHECK(ms_since(stopping) < 10000);
  auto after_stop = versions(raw, sids);
  std::this_thread::sleep_for(3 * interval);
  CHECK(versions(raw, sids) == after_stop);
  // Nothing lost: a ring of k2 alone reads every value, the originals and
  // the client's last write.
  keys.write({"k2"});
  auto fresh = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
  for (int i = 0; i < sessions; ++i) {
    const auto& sid = sids[i];
    INFO(sid);
    auto c = fresh->get_creds(sid);
    REQUIRE(c);
    auto doc = nlohmann::json::parse(c->creds_json);
    CHECK(doc["me"]["id"] == "s" + std::to_string(i) + "@s.whatsapp.net");
    CHECK(doc["registered"] == true);
    if (i < 8) {
      REQUIRE(last_written.count(sid));
      CHECK(doc["counter"] == last_written[sid]);
    }
    auto k = fresh->get_keys(sid, "pre-key", {"1", "2"});
    REQUIRE(k);
    CHECK(k->values["1"] == R"({"private":"s)" + std::to_string(i) + R"(-1"})");
    CHECK(k->values["2"] == R"({"private":"s)" + std::to_string(i) + R"(-2"})");
  }
}

TEST_CASE("a value the sweep cannot open is left as it is and counted once "
          "per walk, and the sweep goes on with the other sessions",
          "[crypto][redis][rekey-sweep][decrypt_failed]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file lost_keys{{"k0"}};
  key_file keys{{"k1"}};
  auto bad = unique_sid("sweep-bad");
  std::vector<std::string> good;
  {
    auto e0 = start_engine(redis->url(), {{"crypto.key-file", lost_keys.path}});
    REQUIRE(e0->set(bad, some_session("bad")));
  }
  {
    auto e1 = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
    for (int i = 0; i < 5; ++i) {
      good.push_back(unique_sid("sweep-good"));
      REQUIRE(e1->set(good.back(), some_session("g" + std::to_string(i))));
    }
  }
  auto bad_before = stored_values(raw, bad);
  REQUIRE(bad_before.size() == size_t{values_per_session});
  // k0 is not in the ring: the bad session's values cannot open.
  keys.write({"k2", "k1"});
  constexpr auto interval = 100ms;
  auto started = std_clock::now();
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path},
                                       {"crypto.rekey-sweep", "true"},
                                       {"crypto.rekey-interval-ms",
                                        std::to_string(interval.count())},
                                       {"crypto.rekey-per-tick", "50"}});
  bool done = false;
  while (!done && ms_since(started) < 30000) {
    std::this_thread::sleep_for(50ms);
    done = true;
    for (const auto& sid : good)
      done = done && protection(raw, sid) == "k2";
  }
  REQUIRE(done);
  // Some more walks over the bad session.
  std::this_thread::sleep_for(10 * interval);
  auto failures = crypto_count(*e, "decrypt_failed");
  auto rekeyed = crypto_count(*e, "rekeyed");
  auto took_ms = ms_since(started);
  INFO("after " << took_ms << " ms: " << failures << " failed opens");
  CHECK(stored_values(raw, bad) == bad_before); // byte for byte
  CHECK(rekeyed == uint64_t{5 * values_per_session});
  // Counted: at least in one walk; not spun on: one count of each value per
  // walk, and a walk takes at least a tick (one per interval).
  CHECK(failures >= uint64_t{values_per_session});
  auto ticks = static_cast<uint64_t>(took_ms / interval.count()) + 1;
  CHECK(failures <= ticks * values_per_session);
  // Still readable as an error, never as not found or garbage.
  auto c = e->get_creds(bad);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == errc::decrypt_failed);
}

TEST_CASE("an engine stopped in the middle of a sweep leaves every session "
          "whole: all values under the old key or all under the new",
          "[crypto][redis][rekey-sweep][lifecycle]") {
  auto redis = start_redis();
  raw_redis raw{redis->port()};
  key_file keys{{"k1"}};
  constexpr int sessions = 40;
  std::vector<std::string> sids;
  {
    auto e1 = start_engine(redis->url(), {{"crypto.key-file", keys.path}});
    for (int i = 0; i < sessions; ++i) {
      sids.push_back(unique_sid("sweep-stop"));
      REQUIRE(e1->set(sids.back(), some_session("s" + std::to_string(i))));
    }
  }
  keys.write({"k2", "k1"});
  auto e = start_engine(redis->url(), {{"crypto.key-file", keys.path},
                                       {"crypto.rekey-sweep", "true"},
                                       {"crypto.rekey-interval-ms", "100"},
                                       {"crypto.rekey-per-tick", "2"}});
  // Past its first sessions, far from its last (40 at 2 per 100 ms).
  auto started = std_clock::now();
  while (crypto_count(*e, "rekeyed") < 2 * values_per_session
         && ms_since(started) < 30000)
    std::this_thread::sleep_for(5ms);
  REQUIRE(crypto_count(*e, "rekeyed") >= 2 * values_per_session);
  auto stopping = std_clock::now();
  e.reset();
  CHECK(ms_since(stopping) < 10000);
  std::map<std::string, int> by_protection;
  for (const auto& sid : sids)
    ++by_protection[protection(raw, sid)];
  INFO("k1: " << by_protection["k1"] << ", k2: " << by_protection["k2"]);
  CHECK(by_protection["mixed"] == 0);
  CHECK(by_protection["k1"] + by_protection["k2"] == sessions);
  CHECK(by_protection["k2"] >= 2);
  CHECK(by_protection["k1"] > 0); // stopped mid-walk indeed
  // Nothing writes after the stop.
  auto after_stop = versions(raw, sids);
  std::this_thread::sleep_for(400ms);
  CHECK(versions(raw, sids) == after_stop);
}

} // namespace rekey_sweeper_redistest
