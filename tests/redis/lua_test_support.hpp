// lua_test_support.hpp -- what the Lua script tests (lua_*_redistest.cpp)
// share: a connection to the test redis-server and hand-built keys.
//
// Why: the scripts (redis/scripts/*.lua) are checked on their own, without
// actors or an engine: each test writes a script's KEYS and ARGV by hand,
// exactly as the script's comment block states them, calls it with EVALSHA
// (redis_connection, the production path: it SCRIPT LOADs every script at
// connect) and reads the keys it left with plain commands.
//
// Server: the one of AUTHSTORE_TEST_REDIS_URL (scripts/test.sh starts it),
// in a database of each test file's own (lua_database: the URL's database
// plus an offset, mod 16), so that sweep_dirty's SCAN sees only the
// outboxes of its own file, even while CTest runs the files in parallel. Keys:
// every session id is unique per process and call, and the global keys the
// scripts take as KEYS (the dirty index, the marks counter, the quarantine) get
// per-test names too; each test's keys are deleted when its lua_redis goes,
// also after a failed REQUIRE. The whole-suite check that each script compiles
// uses raw_redis (SCRIPT LOAD one at a time): redis_connection loads all of
// them at connect, so one broken script would fail every call without naming
// itself.
#pragma once

#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "redis/connection.hpp"
#include "tests/redis/redis_test_support.hpp"

namespace authstore::test {

/// The database of each Lua test file, as an offset from the URL's.
enum class lua_database : int {
  session_scripts = 1,
  outbox_scripts = 2,
  /// lua_session_reads_redistest.cpp: its scan_sessions walk sees only
  /// its own sessions.
  session_reads = 3,
  lease_scripts = 4,
  /// lua_cluster_scripts_redistest.cpp: the membership keys are global.
  cluster_scripts = 5,
};

/// The endpoint the Lua tests use: AUTHSTORE_TEST_REDIS_URL's server, the
/// database `db` says.
inline redis_endpoint lua_test_endpoint(lua_database db) {
  const char* url = std::getenv("AUTHSTORE_TEST_REDIS_URL");
  INFO("AUTHSTORE_TEST_REDIS_URL names the test redis-server "
       "(scripts/test.sh sets it)");
  REQUIRE(url != nullptr);
  auto ep = parse_redis_url(url);
  INFO(describe(ep));
  REQUIRE(ep);
  ep->database = (ep->database + static_cast<int>(db)) % 16;
  return *ep;
}

/// The keys of one session, named as redis/keys.hpp names them, and
/// per-test global keys.
struct lua_keys {
  explicit lua_keys(const std::string& sid)
      : sid(sid), m("as:{" + sid + "}:m"), c("as:{" + sid + "}:c"),
        k("as:{" + sid + "}:k"), o("as:{" + sid + "}:o"),
        l("as:{" + sid + "}:l"), cl("as:{" + sid + "}:cl"),
        own("as:{" + sid + "}:own"), index("luatest:{" + sid + "}:dirty"),
        fields("luatest:{" + sid + "}:dirty:fields"),
        quarantine("luatest:{" + sid + "}:quarantine") {}

  std::string sid, m, c, k, o, l, cl, own, index, fields, quarantine;

  std::vector<std::string> all() const {
    return {m, c, k, o, l, cl, own, index, fields, quarantine};
  }
};

/// A connection for calling scripts (`call`) and one for looking at what
/// they left (`raw`, plain hiredis: not the code under test).
class lua_redis {
public:
  explicit lua_redis(lua_database db)
      : raw(lua_test_endpoint(db)), conn_(config(db)) {}
  ~lua_redis() {
    if (!owned_.empty()) {
      std::vector<std::string> argv{"DEL"};
      argv.insert(argv.end(), owned_.begin(), owned_.end());
      raw.command(argv);
    }
  }
  lua_redis(const lua_redis&) = delete;
  lua_redis& operator=(const lua_redis&) = delete;

  /// A new session whose keys are deleted at the end of the test.
  lua_keys session(const std::string& prefix = "luatest") {
    lua_keys keys{unique_sid(prefix)};
    for (auto& key : keys.all())
      owned_.push_back(key);
    return keys;
  }

  /// Calls `which` with these KEYS and ARGV through redis_connection
  /// (EVALSHA); an error reply is a failure carrying Redis's message.
  outcome<redis_reply> try_call(redis_script which,
                                std::vector<std::string> keys,
                                std::vector<std::string> argv) {
    redis_request req{which, static_cast<uint32_t>(keys.size()),
                      std::move(keys)};
    req.args.insert(req.args.end(), argv.begin(), argv.end());
    auto results = conn_.execute({&req});
    REQUIRE(results.size() == 1);
    return std::move(results[0]);
  }

  /// Runs a request built by redis/layout.hpp (its KEYS and ARGV as the
  /// builder made them).
  redis_reply run(const redis_request& req) {
    std::vector<std::string> keys(req.args.begin(),
                                  req.args.begin() + req.num_keys);
    std::vector<std::string> argv(req.args.begin() + req.num_keys,
                                  req.args.end());
    return call(req.script, std::move(keys), std::move(argv));
  }

  /// Sends `batch` as one pipeline (as the Redis actor does) and returns
  /// each request's outcome, in order.
  std::vector<outcome<redis_reply>>
  pipeline(const std::vector<const redis_request*>& batch) {
    return conn_.execute(batch);
  }
  /// As try_call, for calls that must succeed.
  redis_reply call(redis_script which, std::vector<std::string> keys,
                   std::vector<std::string> argv = {}) {
    auto r = try_call(which, std::move(keys), std::move(argv));
    INFO(describe(r));
    REQUIRE(r);
    return *r;
  }

  /// Field-value pairs, in the order they are written (a small hash's
  /// HGETALL answers in that order).
  using pairs = std::vector<std::pair<std::string, std::string>>;

  /// A session as a test writes it by hand before a script runs: the meta
  /// hash's version ("" = no meta hash), creds, keys, dirty marks.
  struct planted {
    planted(std::string version, pairs creds = {}, pairs keys = {},
            pairs marks = {})
        : version(std::move(version)), creds(std::move(creds)),
          keys(std::move(keys)), marks(std::move(marks)) {}

    std::string version;
    pairs creds;
    pairs keys;
    pairs marks;
  };

  /// Writes `x` into the keys of `s` (HSET), leaving out what is empty.
  void plant(const lua_keys& s, const planted& x) {
    if (!x.version.empty())
      plant(s.m, {{"v", x.version}});
    plant(s.c, x.creds);
    plant(s.k, x.keys);
    plant(s.o, x.marks);
  }

  /// HSET of `x` into `key` (nothing when `x` is empty).
  void plant(const std::string& key, const pairs& x) {
    if (x.empty())
      return;
    std::vector<std::string> argv{"HSET", key};
    for (const auto& [field, value] : x) {
      argv.push_back(field);
      argv.push_back(value);
    }
    REQUIRE(raw.integer(argv) == static_cast<long long>(x.size()));
  }

  /// All fields of a hash.
  std::map<std::string, std::string> hash(const std::string& key) {
    auto r = raw.command({"HGETALL", key});
    REQUIRE(r->type == REDIS_REPLY_ARRAY);
    std::map<std::string, std::string> result;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
      result[std::string(r->element[i]->str, r->element[i]->len)]
        = std::string(r->element[i + 1]->str, r->element[i + 1]->len);
    return result;
  }

  /// Whether `key` exists.
  bool exists(const std::string& key) {
    return raw.integer({"EXISTS", key}) == 1;
  }

  /// Plain commands, and what the scripts left.
  raw_redis raw;

private:
  static redis_connection_config config(lua_database db) {
    redis_connection_config cfg;
    cfg.endpoint = lua_test_endpoint(db);
    cfg.command_timeout = std::chrono::milliseconds{5000};
    return cfg;
  }

  redis_connection conn_;
  std::vector<std::string> owned_;
};

/// More elements than Lua's unpack() takes at once in Redis (its C stack,
/// LUAI_MAXCSTACK = 8000): a list this long passes a script only in chunks
/// (redis/scripts/include/chunked_call.lua).
constexpr int beyond_unpack_limit = 8500;

/// Checks that this Redis really refuses `n` values unpacked at once, so a
/// chunking test of `n` elements is not vacuous.
inline void require_unpack_refuses(lua_redis& db, int n) {
  std::vector<std::string> argv{"EVAL", "return #{unpack(ARGV)}", "0"};
  for (int i = 0; i < n; ++i)
    argv.push_back("x");
  auto r = db.raw.command(argv);
  INFO("unchunked unpack of " << n << " values");
  REQUIRE(r->type == REDIS_REPLY_ERROR);
  CHECK(std::string(r->str, r->len).find("too many results to unpack")
        != std::string::npos);
}

/// The items of an array reply (nil items as "<nil>"), for comparing a
/// whole reply at once.
inline std::vector<std::string> items_of(const redis_reply& r) {
  REQUIRE(r.kind == redis_reply::array);
  std::vector<std::string> result;
  for (size_t i = 0; i < r.items.size(); ++i)
    result.push_back(r.item_nil[i] ? "<nil>" : r.items[i]);
  return result;
}

} // namespace authstore::test
