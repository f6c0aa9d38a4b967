// cmd_crypto.cpp -- `authstore keygen` and `authstore rekey` (issue #17,
// encryption at rest).
//
// keygen prints a key line for crypto.key-file, so operators never make
// keys by hand. rekey walks every session in Redis (SCAN over the meta
// hashes), reads each whole at one version, and re-seals every value that
// is plaintext or sealed with a key other than the active one, through the
// same apply_patch script clients write with, conditioned on the version it
// read (crypto/rekey.hpp). A client write in between makes the condition
// fail: rekey reads that session again (the client's values are already
// sealed with the active key of its node), so no write is ever
// overwritten, and several rekeys on several nodes may run at once. The
// writes leave dirty marks like any write (with a cold store), so the
// outbox carries the new ciphertext to the cold store.
//
// What it cannot see: sessions that live only in the cold store (their hot
// copy expired, redis.hot-ttl-s). Those are re-sealed when they are read
// back and a later rekey (or the sweep) finds them in Redis; a key is
// therefore safe to retire only when rekey reports 0 values for it AND no
// session is cold-only (hot TTL 0), or after every session was read back.
// README "Security" says so. Blocking, in its own process: no actor system.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "crypto/key_ring.hpp"
#include "crypto/rekey.hpp"
#include "redis/connection.hpp"
#include "redis/layout.hpp"
#include "runtime/cli/cmd_common.hpp"

namespace authstore {

namespace {

/// SCAN COUNT hint per step: about this many meta keys per round trip.
constexpr size_t scan_batch = 100;

/// Reads of one session after a version conflict before rekey gives up on
/// it (a session written this often is re-sealed by its own writes).
constexpr int max_attempts = 5;

/// Sessions between two progress lines on stderr.
constexpr uint64_t progress_every = 1000;

struct rekey_totals {
  uint64_t sessions = 0;
  uint64_t rewritten = 0;
  uint64_t conflicts = 0;
  uint64_t skipped = 0;
  crypto::key_census after;
};

outcome<redis_reply> run_one(redis_connection& conn, const redis_request& r) {
  auto out = conn.execute({&r});
  return std::move(out.front());
}

/// Re-seals one session (or only counts it with `dry_run`).
outcome<bool> rekey_session(redis_connection& conn,
                            const crypto::value_cipher& cipher,
                            const settings& cfg, const std::string& sid,
                            bool dry_run, rekey_totals& t) {
  const auto& active = cipher.ring().active().id;
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    auto reply
      = run_one(conn, redis_layout::read_session(
                        sid, static_cast<size_t>(cfg.codec_max_writes()),
                        static_cast<size_t>(cfg.codec_max_patch_bytes())));
    if (!reply)
      return reply.error();
    auto snap = redis_layout::parse_read_session(*reply);
    if (!snap)
      return snap.error();
    if (!snap->found)
      return false; // deleted since the scan
    auto plan = crypto::plan_rekey(cipher, sid, *snap);
    if (!plan)
      return plan.error();
    auto after = plan->before;
    if (!dry_run && !plan->writes.writes.empty()) {
      redis_layout::write_options opts;
      opts.now_ms = redis_layout::wall_ms();
      auto ttl = cfg.redis_hot_ttl_s();
      opts.expire_at_ms
        = ttl.count() == 0
            ? 0
            : opts.now_ms + std::chrono::milliseconds{ttl}.count();
      opts.track_dirty = !cfg.mongodb_uri().empty();
      auto wrote
        = run_one(conn, redis_layout::apply_patch(sid, plan->writes, opts));
      if (!wrote)
        return wrote.error();
      auto v = redis_layout::parse_apply_patch(*wrote);
      if (!v && v.error().code == errc::version_conflict) {
        ++t.conflicts;
        continue; // a client wrote meanwhile: read it again
      }
      if (!v)
        return v.error();
      t.rewritten += plan->writes.writes.size();
      after.plaintext -= plan->moved.plaintext;
      for (const auto& [id, n] : plan->moved.by_key)
        after.by_key[id] -= n;
      after.by_key[active] += plan->writes.writes.size();
    }
    t.after.add(after);
    return true;
  }
  ++t.skipped;
  return failure{errc::version_conflict,
                 "session " + sid + " changed on every one of "
                   + std::to_string(max_attempts) + " attempts; run again"};
}

nlohmann::json report(const crypto::key_ring& ring, const rekey_totals& t,
                      bool dry_run) {
  nlohmann::json j;
  j["dry_run"] = dry_run;
  j["active_key"] = ring.active().id;
  j["sessions"] = t.sessions;
  j["rewritten_values"] = t.rewritten;
  j["conflicts_retried"] = t.conflicts;
  j["sessions_skipped"] = t.skipped;
  nlohmann::json by_key = nlohmann::json::object();
  for (const auto& [id, n] : t.after.by_key)
    if (n > 0)
      by_key[id] = n;
  j["values_by_key"] = by_key;
  j["plaintext_values"] = t.after.plaintext;
  j["unreadable_values"] = t.after.unreadable;
  nlohmann::json retire = nlohmann::json::array();
  for (const auto& k : ring.keys()) {
    auto i = t.after.by_key.find(k.id);
    if (k.id != ring.active().id
        && (i == t.after.by_key.end() || i->second == 0))
      retire.push_back(k.id);
  }
  j["unused_in_redis"] = retire;
  return j;
}

} // namespace

int cmd_keygen(const cli_args& args) {
  if (args.positional.size() > 1)
    return usage_error("keygen", "at most one argument: the key id");
  std::string id = args.positional.empty() ? "" : args.positional[0];
  if (id.empty()) {
    // A sortable default: the date, so the newest key is easy to spot.
    auto t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "k%Y%m%d-%H%M%S", std::gmtime(&t));
    id = buf;
  }
  auto line = crypto::new_key_line(id);
  if (!line) {
    if (line.error().code == errc::invalid_argument)
      return usage_error("keygen", line.error().detail);
    return report_failure("keygen", line.error());
  }
  std::cout << *line << '\n';
  return exit_ok;
}

int cmd_rekey(const cli_args& args) {
  if (!args.positional.empty())
    return usage_error("rekey", "takes no arguments");
  auto cfg = load_settings("rekey", args);
  if (!cfg)
    return exit_usage;
  if (cfg->crypto_key_file().empty())
    return usage_error("rekey", "needs crypto.key-file (--crypto.key-file "
                                "PATH or AUTHSTORE_CRYPTO_KEY_FILE)");
  auto ring = crypto::key_ring::load(cfg->crypto_key_file());
  if (!ring) {
    std::cerr << "authstore rekey: " << ring.error().render() << '\n';
    return exit_usage;
  }
  bool dry_run = args.has("dry-run");
  double per_s = 0;
  if (args.has("sessions-per-s")) {
    per_s = std::atof(args.get("sessions-per-s", "").c_str());
    if (!(per_s > 0))
      return usage_error("rekey", "--sessions-per-s takes a number above 0");
  }
  auto url = parse_redis_url(cfg->redis_url());
  if (!url)
    return report_failure("rekey", url.error());
  redis_connection_config rc;
  rc.endpoint = *url;
  rc.connect_timeout = cfg->redis_connect_timeout_ms();
  rc.command_timeout = cfg->redis_command_timeout_ms();
  redis_connection conn{rc};
  crypto::value_cipher cipher{std::move(*ring)};
  rekey_totals t;
  uint64_t failures = 0;
  auto start = std::chrono::steady_clock::now();
  std::string cursor = "0";
  do {
    auto reply = run_one(conn, redis_layout::scan_sessions(cursor, scan_batch));
    auto page = reply ? redis_layout::parse_scan_sessions(*reply)
                      : outcome<session_page>{reply.error()};
    if (!page)
      return report_failure("rekey", page.error());
    cursor = page->cursor;
    for (const auto& sid : page->ids) {
      if (per_s > 0) {
        auto due
          = start
            + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
              std::chrono::duration<double>(t.sessions / per_s));
        std::this_thread::sleep_until(due);
      }
      ++t.sessions;
      auto ok = rekey_session(conn, cipher, *cfg, sid, dry_run, t);
      if (!ok) {
        ++failures;
        std::cerr << "authstore rekey: session " << sid << ": "
                  << ok.error().render() << '\n';
      }
      if (t.sessions % progress_every == 0)
        std::cerr << "authstore rekey: " << t.sessions << " sessions, "
                  << t.rewritten << " values re-sealed\n";
    }
  } while (cursor != "0");
  std::cout << report(cipher.ring(), t, dry_run).dump(2) << '\n';
  std::cerr << "authstore rekey: Redis only -- sessions that live only in "
               "the cold store (expired hot copies) are not counted; see "
               "README \"Security\" before retiring a key\n";
  return failures == 0 ? exit_ok : exit_failed;
}

} // namespace authstore
