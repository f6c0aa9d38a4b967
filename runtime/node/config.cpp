// config.cpp -- the configuration table and its loader (config.hpp).
#include "runtime/node/config.hpp"

#include "messages/timing.hpp"
#include "observe/log.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace authstore {

namespace {

using S = setting_spec;

// clang-format off
const std::vector<setting_spec> specs = {
  {"redis.url", S::text, "redis://127.0.0.1:6379/0", 0, 0,
   "Redis to use: redis://[[user]:password@]host[:port][/db] or "
   "unix:///path.sock[?db=N]. Prefer the environment for passwords.",
   true, "redis"},
  {"redis.pool-size", S::integer, "2", 1, 64,
   "Redis connections (one detached actor each); a session always uses the "
   "same one"},
  {"redis.connect-timeout-ms", S::integer, "1000", 10, 60000,
   "Bound on connecting to Redis"},
  {"redis.command-timeout-ms", S::integer, "1000", 10, 60000,
   "Bound on one pipeline round trip; a hung Redis fails calls after this"},
  {"redis.hot-ttl-s", S::integer, "0", 0, 31536000,
   "Expire the hot copy of a session this long after it was last clean "
   "(every write in the cold store), read back or touched (0: never). A "
   "dirty session never expires. Needs mongodb.uri: an expired session is "
   "read back from the cold store"},
  {"mongodb.uri", S::text, "", 0, 0,
   "MongoDB URI of the cold store (empty: no cold store; Redis is the only "
   "copy). Timeouts (connectTimeoutMS, socketTimeoutMS, "
   "serverSelectionTimeoutMS) and TLS come from the URI. Prefer the "
   "environment for passwords",
   true, "mongodb"},
  {"mongodb.database", S::text, "authstore", 0, 0,
   "Database holding the cold store's keys and sessions collections"},
  {"mongodb.write-concern", S::text, "majority", 0, 0,
   "Write concern w of cold-store writes: majority, a tag set name or a "
   "node count; 0 (unacknowledged) is refused"},
  {"mongodb.write-journal", S::boolean, "true", 0, 0,
   "Write concern j: a persist counts only once journaled"},
  {"cold.call-timeout-ms", S::integer, "3000", 10, 600000,
   "Bound on one cold-store call; no answer in time is a timeout error "
   "and a circuit-breaker failure"},
  {"cold.window-s", S::integer, "10", 1, 3600,
   "Rolling window of the breaker's failure and slow-call rates"},
  {"cold.min-calls", S::integer, "10", 1, 1000000,
   "Fewest calls in the window before a rate can open the circuit"},
  {"cold.failure-rate-pct", S::integer, "50", 1, 100,
   "Open the circuit when at least this share of the window's calls failed"},
  {"cold.consecutive-failures", S::integer, "5", 1, 1000000,
   "Open the circuit after this many failed cold-store calls in a row"},
  {"cold.slow-call-ms", S::integer, "1000", 1, 86400000,
   "A cold-store call slower than this counts as slow"},
  {"cold.slow-call-rate-pct", S::integer, "80", 1, 100,
   "Open the circuit when at least this share of the window's calls was "
   "slow"},
  {"cold.open-base-s", S::integer, "5", 1, 86400,
   "First open period of the circuit; doubles (jittered) per failed probe"},
  {"cold.open-max-s", S::integer, "60", 1, 86400,
   "Cap of the circuit's open period (at least cold.open-base-s)"},
  {"cold.half-open-probes", S::integer, "3", 1, 1000,
   "Probe calls after an open period; all must succeed to close"},
  {"cold.restart-backoff-max-ms", S::integer, "10000", 100, 3600000,
   "Cap of the wait before restarting a crashed mongo worker (the wait "
   "starts at 100 ms and doubles per crash in a row)"},
  {"log.level", S::text, "info", 0, 0,
   "Least severe log level written to stderr (logfmt lines): debug (every "
   "write and persist, with session and version), info, warn, error, off"},
  {"outbox.reconcile", S::boolean, "true", 0, 0,
   "Run the outbox reconciler on this node (with mongodb.uri): persists "
   "sessions left dirty by a crash, an outage or a failed live persist. "
   "Safe on several nodes at once (claims)"},
  {"outbox.interval-ms", S::integer, "1000", 10, 3600000,
   "Time between reconciler ticks (backlog figures, sweep step, persists)"},
  {"outbox.grace-ms", S::integer, "5000", 0, 3600000,
   "The reconciler takes only sessions dirty at least this long, leaving "
   "fresh writes to the live persist path"},
  {"outbox.max-in-flight", S::integer, "32", 1, 10000,
   "Most persists the reconciler has in flight at once"},
  {"outbox.live-max-in-flight", S::integer, "64", 1, 100000,
   "Most persists started right after writes (all sessions together); "
   "beyond it a write's marks wait for the reconciler, so persists do not "
   "queue behind the one cold worker until they time out"},
  {"outbox.lease-ms", S::integer, "30000", 100, 3600000,
   "How long a reconciler's claim keeps other nodes off a session (longer "
   "than one persist can take)"},
  {"outbox.backoff-base-ms", S::integer, "1000", 1, 3600000,
   "Reconciler backoff after a session's failed persist; doubles per "
   "failure in a row, jittered"},
  {"outbox.backoff-max-ms", S::integer, "60000", 1, 86400000,
   "Cap of the reconciler's per-session backoff"},
  {"outbox.sweep-count", S::integer, "1000", 0, 1000000,
   "Redis keys examined per tick by the sweep that re-indexes dirty "
   "sessions missing from the index (0: no sweep)"},
  {"session.idle-passivate-s", S::integer, "300", 1, 86400,
   "Stop a session actor after this long without a request"},
  {"session.max-live", S::integer, "100000", 1, 100000000,
   "Most live session actors; the least recently used is passivated"},
  {"session.cache-max-age-ms", S::integer, "1000", 0, 3600000,
   "Re-read a session's cached creds/keys from Redis after this long "
   "(bounds staleness when another process writes the same session)"},
  {"session.max-cached-keys", S::integer, "64", 0, 100000,
   "Most cached key entries per session actor"},
  {"session.request-timeout-ms", S::integer, "3000", 10, 600000,
   "Bound on a session's request to Redis (above the command timeout)"},
  {"codec.max-value-bytes", S::integer, "1048576", 16, 268435456,
   "Largest JSON value of one creds field or key"},
  {"codec.max-depth", S::integer, "32", 1, 512,
   "Deepest nesting of a JSON value"},
  {"codec.max-fields", S::integer, "100000", 1, 100000000,
   "Most object members plus array elements in one JSON value"},
  {"codec.max-patch-bytes", S::integer, "16777216", 64, 1073741824,
   "Largest patch (all names and values of one set)"},
  {"codec.max-writes", S::integer, "10000", 1, 10000000,
   "Most field writes in one patch"},
  {"scheduler.max-threads", S::integer, "2", 1, 256,
   "CAF scheduler worker threads (2 measured best on 2 cores)"},
  {"scheduler.moderate-sleep-us", S::integer, "0", 0, 1000000,
   "CAF work-stealing idle poll sleep; 0 wakes workers at once (CAF's own "
   "default is 50, which adds ~50 us to every hop from a detached actor)"},
  {"http.port", S::integer, "0", 0, 65535,
   "Serve /metrics, /healthz and /readyz on this port (0: off). The same "
   "port as api.port serves both on one listener (with api.bind)"},
  {"http.bind", S::text, "127.0.0.1", 0, 0,
   "Address the HTTP endpoint binds to; loopback unless you mean otherwise"},
  {"api.port", S::integer, "", 0, 65535,
   "`authstore serve`: serve the HTTP API (docs/HTTP-API.md) on this port "
   "(0: any free port; `authstore: api listening on ADDR:PORT` is printed "
   "at start; unset: no API)"},
  {"api.bind", S::text, "127.0.0.1", 0, 0,
   "Address the HTTP API binds to; loopback unless you mean otherwise "
   "(HTTPS only when remote.tls-* are set)"},
  {"api.max-body-bytes", S::integer, "16777216", 64, 1073741824,
   "Largest request body; a larger one is answered 413 body_too_large "
   "without reading it"},
  {"api.max-header-bytes", S::integer, "16384", 512, 1048576,
   "Largest request line plus headers; larger is answered 431"},
  {"api.max-connections", S::integer, "1024", 1, 1000000,
   "Most HTTP connections open at once (API and ops listeners together); "
   "more are closed at accept"},
  {"api.max-in-flight-per-connection", S::integer, "64", 1, 100000,
   "Most requests of one connection waiting for the engine (pipelining); "
   "more are answered 429 overloaded (not applied)"},
  {"api.max-in-flight", S::integer, "4096", 1, 1000000,
   "Most HTTP requests waiting for the engine on this node; more are "
   "answered 429 overloaded (not applied)"},
  {"api.read-timeout-ms", S::integer, "10000", 10, 600000,
   "A client must send a whole request (from its first byte) and take a "
   "response within this; a slower one is dropped (slowloris)"},
  {"api.idle-timeout-ms", S::integer, "60000", 10, 86400000,
   "Close a keep-alive connection that sent no new request for this long"},
  {"api.tls-require-client-cert", S::boolean, "true", 0, 0,
   "With remote.tls-*: HTTPS clients must present a certificate signed by "
   "remote.tls-ca (mutual TLS, as for remote access); false: server-side "
   "TLS only (the bearer secret still applies)"},
  {"remote.port", S::integer, "7447", 0, 65535,
   "Port `authstore serve` listens on (0: any free port; the port is "
   "printed at start)"},
  {"remote.bind", S::text, "127.0.0.1", 0, 0,
   "Address `authstore serve` listens on; loopback unless you mean "
   "otherwise (traffic is not encrypted unless remote.tls-* are set: see "
   "README, Remote access)"},
  {"remote.secret-file", S::text, "", 0, 0,
   "File holding the shared secret of remote access (at least 16 bytes; "
   "a trailing newline is ignored). Takes precedence over the environment "
   "variable AUTHSTORE_SECRET, the only other source; a secret is never a "
   "command-line value", false, "secret-file"},
  {"remote.max-outstanding", S::integer, "128", 1, 100000,
   "Most requests one remote connection may have in flight; more are "
   "refused with overloaded (not applied)"},
  {"remote.max-message-bytes", S::integer, "16777216", 64, 1073741824,
   "Largest request one remote connection may send (a patch's names and "
   "values, the ids of a read); larger ones are refused with "
   "value_too_large (not applied)"},
  {"remote.max-connections", S::integer, "1024", 1, 1000000,
   "Most authenticated remote connections at once"},
  {"remote.request-timeout-ms", S::integer, "6000", 100, 600000,
   "Client side: bound on one remote request; after it the outcome is "
   "unknown (timeout)"},
  {"remote.handshake-timeout-ms", S::integer, "3000", 100, 600000,
   "Client side: bound on connecting and authenticating"},
  {"remote.heartbeat-ms", S::integer, "1000", 10, 600000,
   "CAF middleman heartbeat interval on remote connections"},
  {"remote.connection-timeout-ms", S::integer, "5000", 50, 3600000,
   "Drop a remote peer that sent nothing, not even a heartbeat, for this "
   "long: a frozen peer is detected within this bound"},
  {"remote.tls-cert", S::text, "", 0, 0,
   "PEM certificate (chain) this side presents on remote connections; "
   "setting it turns TLS on (needs remote.tls-key and remote.tls-ca too). "
   "Both ends must agree: TLS and plain peers refuse each other"},
  {"remote.tls-key", S::text, "", 0, 0,
   "PEM private key of remote.tls-cert (unencrypted; keep it mode 0600)"},
  {"remote.tls-ca", S::text, "", 0, 0,
   "PEM file of the CA certificates trusted to sign the peer's "
   "certificate; the peer must present one (mutual TLS)"},
};
// clang-format on

const setting_spec* find_spec(const std::string& key) {
  for (const auto& s : specs)
    if (key == s.key)
      return &s;
  return nullptr;
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// Checks `value` against `spec`; returns the canonical value.
outcome<std::string> check(const setting_spec& spec, const std::string& value,
                           const std::string& source) {
  auto fail = [&](const std::string& why) {
    return failure{errc::invalid_config,
                   std::string{spec.key} + " (from " + source + "): " + why};
  };
  switch (spec.kind) {
    case S::integer: {
      // An integer whose default is empty may be unset (api.port: off).
      if (value.empty() && !*spec.default_value)
        return std::string{};
      int64_t x = 0;
      auto [p, ec]
        = std::from_chars(value.data(), value.data() + value.size(), x);
      if (ec != std::errc{} || p != value.data() + value.size())
        return fail("expected a whole number, got '" + value + "'");
      if (x < spec.min || x > spec.max)
        return fail("must be between " + std::to_string(spec.min) + " and "
                    + std::to_string(spec.max) + ", got " + value);
      return std::to_string(x);
    }
    case S::boolean:
      if (value == "true" || value == "1" || value == "yes")
        return std::string{"true"};
      if (value == "false" || value == "0" || value == "no")
        return std::string{"false"};
      return fail("expected true or false, got '" + value + "'");
    case S::text:
      if (spec.secret_url && !value.empty()
          && value.find("://") == std::string::npos)
        return fail("expected a URL (scheme://...)");
      return value;
  }
  return value;
}

} // namespace

const std::vector<setting_spec>& setting_specs() {
  return specs;
}

std::string env_name(const std::string& key) {
  std::string result = "AUTHSTORE_";
  for (char c : key)
    result
      += (c == '.' || c == '-')
           ? '_'
           : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return result;
}

std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme)
    return url;
  auto auth = url.substr(scheme + 3, at - scheme - 3);
  auto colon = auth.find(':');
  std::string user = colon == std::string::npos ? "" : auth.substr(0, colon);
  return url.substr(0, scheme + 3) + user + ":***" + url.substr(at);
}

outcome<bool> settings::set(const std::string& key, const std::string& value,
                            const std::string& source) {
  const auto* spec = find_spec(key);
  if (!spec)
    return {errc::invalid_config,
            "unknown setting '" + key + "' (from " + source
              + "); `authstore config --help` lists them"};
  auto v = check(*spec, value, source);
  if (!v)
    return v.error();
  values_[key] = *v;
  sources_[key] = source;
  return true;
}

outcome<settings>
settings::load(const std::map<std::string, std::string>& flags,
               std::vector<failure>* problems) {
  settings result;
  std::vector<failure> errors;
  for (const auto& s : specs) {
    result.values_[s.key] = s.default_value;
    result.sources_[s.key] = "default";
  }
  auto apply = [&](const std::string& key, const std::string& value,
                   const std::string& source) {
    if (auto ok = result.set(key, value, source); !ok)
      errors.push_back(ok.error());
  };
  // 3. the config file
  std::string file;
  std::string file_source;
  if (auto i = flags.find("config"); i != flags.end()) {
    file = i->second;
    file_source = "--config";
  } else if (const char* env = std::getenv("AUTHSTORE_CONFIG")) {
    file = env;
    file_source = "AUTHSTORE_CONFIG";
  }
  if (!file.empty()) {
    std::ifstream in{file};
    if (!in) {
      errors.push_back({errc::invalid_config, "config file '" + file
                                                + "' (from " + file_source
                                                + ") cannot be read"});
    } else {
      std::string line;
      for (int no = 1; std::getline(in, line); ++no) {
        line = trim(line.substr(0, line.find('#')));
        if (line.empty())
          continue;
        auto eq = line.find('=');
        auto where = file + ":" + std::to_string(no);
        if (eq == std::string::npos) {
          errors.push_back(
            {errc::invalid_config, where + ": expected 'key = value'"});
          continue;
        }
        apply(trim(line.substr(0, eq)), trim(line.substr(eq + 1)), where);
      }
    }
  }
  // 2. the environment
  for (const auto& s : specs)
    if (const char* env = std::getenv(env_name(s.key).c_str()))
      apply(s.key, env, env_name(s.key));
  // 1. flags
  for (const auto& [key, value] : flags) {
    if (key == "config")
      continue;
    std::string k = key;
    for (const auto& s : specs)
      if (s.alias && key == s.alias)
        k = s.key;
    apply(k, value, "--" + key);
  }
  // Cross-setting rules.
  if (errors.empty()
      && result.integer("cold.open-max-s") < result.integer("cold.open-base-s"))
    errors.push_back({errc::invalid_config,
                      "cold.open-max-s must be at least cold.open-base-s"});
  // A TTL expires the hot copy only (invariant 6): it needs the cold store
  // that holds everything and reads an expired session back. Without one,
  // the hot copy is the only copy, and expiry would delete the session
  // (a Baileys account reading "not found" is logged out, invariant 4).
  if (errors.empty() && result.integer("redis.hot-ttl-s") > 0
      && result.text("mongodb.uri").empty())
    errors.push_back({errc::invalid_config,
                      "redis.hot-ttl-s (from "
                        + result.sources_["redis.hot-ttl-s"]
                        + ") needs mongodb.uri: without a cold store the hot "
                          "copy is the only copy, and its expiry would "
                          "delete the session"});
  if (!log::parse_level(result.text("log.level")))
    errors.push_back({errc::invalid_config,
                      "log.level (from " + result.sources_["log.level"]
                        + ") must be one of debug, info, warn, error, off"});
  if (errors.empty()
      && result.integer("outbox.backoff-max-ms")
           < result.integer("outbox.backoff-base-ms"))
    errors.push_back({errc::invalid_config,
                      "outbox.backoff-max-ms must be at least "
                      "outbox.backoff-base-ms"});
  if (errors.empty()
      && result.integer("session.request-timeout-ms")
           <= result.integer("redis.command-timeout-ms"))
    errors.push_back({errc::invalid_config,
                      "session.request-timeout-ms must be larger than "
                      "redis.command-timeout-ms, so that Redis errors reach "
                      "callers before their own timeout"});
  if (errors.empty()
      && result.integer("remote.connection-timeout-ms")
           <= 2 * result.integer("remote.heartbeat-ms"))
    errors.push_back({errc::invalid_config,
                      "remote.connection-timeout-ms must be larger than twice "
                      "remote.heartbeat-ms, or one late heartbeat drops a "
                      "healthy peer"});
  if (errors.empty()
      && result.integer("remote.request-timeout-ms")
           <= result.integer("session.request-timeout-ms")
                + reply_margin.count())
    errors.push_back({errc::invalid_config,
                      "remote.request-timeout-ms must be larger than "
                      "session.request-timeout-ms + 1000 (the reply "
                      "margin), so that the "
                      "server's own errors reach remote callers before their "
                      "timeout"});
  // CAF's OpenSSL module turns certificate checks on once any file is set
  // and then needs all of them (a missing one aborts the process at the
  // first connection), so the three come together or not at all.
  if (errors.empty()) {
    const char* tls_keys[]
      = {"remote.tls-cert", "remote.tls-key", "remote.tls-ca"};
    std::string set_keys;
    std::string unset_keys;
    for (const char* k : tls_keys) {
      auto& list = result.text(k).empty() ? unset_keys : set_keys;
      list += (list.empty() ? "" : ", ") + std::string{k};
    }
    if (!set_keys.empty() && !unset_keys.empty())
      errors.push_back({errc::invalid_config,
                        unset_keys + " must be set too: TLS (turned on by "
                          + set_keys
                          + ") needs a certificate, its key and the CA "
                            "that signs the peer's certificate"});
  }
  if (!errors.empty()) {
    auto first = errors.front();
    if (problems)
      *problems = std::move(errors);
    return first;
  }
  return result;
}

const std::string& settings::text(const std::string& key) const {
  return values_.at(key);
}

bool settings::is_set(const std::string& key) const {
  return !values_.at(key).empty();
}

int64_t settings::integer(const std::string& key) const {
  return std::stoll(values_.at(key));
}

bool settings::boolean(const std::string& key) const {
  return values_.at(key) == "true";
}

std::string settings::describe() const {
  std::ostringstream out;
  for (const auto& s : specs) {
    auto v = values_.at(s.key);
    if (s.secret_url)
      v = redact_url(v);
    out << s.key << " = " << v << "  # " << sources_.at(s.key) << '\n';
  }
  return out.str();
}

std::string settings_help() {
  std::ostringstream out;
  for (const auto& s : specs) {
    out << "  --" << s.key;
    if (s.alias)
      out << ", --" << s.alias;
    out << " <" << (s.kind == S::integer ? "n" : "value") << ">\n      "
        << s.help << " (default "
        << (*s.default_value       ? s.default_value
            : s.kind == S::integer ? "unset"
                                   : "empty")
        << "; env " << env_name(s.key) << ")\n";
  }
  return out.str();
}

} // namespace authstore
