// config.cpp -- the configuration table and its loader (config.hpp).
#include "runtime/node/config.hpp"

#include "messages/timing.hpp"
#include "observe/log.hpp"
#include "postgres/migrate_mode.hpp"
#include "runtime/node/config_file.hpp"

#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

namespace authstore {

namespace {

const std::vector<setting_spec> specs = {
#define AUTHSTORE_SETTING(id, key, kind, dflt, lo, hi, secret, alias, help)    \
  {key, setting_kind::kind, dflt, lo, hi, secret, alias, help},
#include "runtime/node/settings.def"
#undef AUTHSTORE_SETTING
};

/// Checks `value` against `spec`; returns the canonical value.
outcome<std::string> check(const setting_spec& spec, const std::string& value,
                           const std::string& source) {
  auto fail = [&](const std::string& why) {
    return failure{errc::invalid_config,
                   std::string{spec.key} + " (from " + source + "): " + why};
  };
  if (spec.is_number()) {
    // A number whose default is empty may be unset (api.port: off).
    if (value.empty() && spec.kind == setting_kind::maybe_integer)
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
  if (spec.kind == setting_kind::boolean) {
    if (value == "true" || value == "1" || value == "yes")
      return std::string{"true"};
    if (value == "false" || value == "0" || value == "no")
      return std::string{"false"};
    return fail("expected true or false, got '" + value + "'");
  }
  if (spec.secret_url && !value.empty()
      && value.find("://") == std::string::npos)
    return fail("expected a URL (scheme://...)");
  return value;
}

// -- the example file --------------------------------------------------------

/// Width of the example file's comment lines: it is read in terminals and
/// editors, and the setting lines themselves are short.
constexpr size_t example_width = 79;

/// Appends `text` as "# "-prefixed lines of at most example_width columns,
/// broken at spaces (a longer word gets a line of its own).
void append_comment(std::ostringstream& out, const std::string& text) {
  std::istringstream words{text};
  std::string line;
  std::string word;
  while (words >> word) {
    if (!line.empty() && 2 + line.size() + 1 + word.size() > example_width) {
      out << "# " << line << '\n';
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty())
    out << "# " << line << '\n';
}

/// "Range 1..64", "true or false", or "" for text.
std::string value_domain(const setting_spec& s) {
  if (s.is_number())
    return "Range " + std::to_string(s.min) + ".." + std::to_string(s.max)
           + ".";
  if (s.kind == setting_kind::boolean)
    return "true or false.";
  return {};
}

// -- cross-setting rules ------------------------------------------------------
// A rule states a bound between settings; check() returns "" when it holds,
// else the problem for people. Rules run once every single value is valid
// (a rule over a malformed value would only repeat that problem).

struct rule {
  std::string (*check)(const settings& s);
};

std::string from(const settings& s, setting_id id) {
  return std::string{specs[static_cast<size_t>(id)].key} + " (from "
         + s.source(id) + ")";
}

/// The schemes a cold-store URI may have, for people.
constexpr const char* known_schemes
  = "mongodb:// or mongodb+srv:// (MongoDB), postgresql:// or postgres:// "
    "(PostgreSQL)";

const rule rules[] = {
  // Node ownership (issue #19): the margin is taken off every lease term,
  // and a member must outlive several heartbeats.
  {[](const settings& s) -> std::string {
    if (2 * s.cluster_lease_margin_ms() < s.cluster_lease_ms())
      return {};
    return "cluster.lease-margin-ms must be less than half of "
           "cluster.lease-ms (the cache is trusted for the lease less the "
           "margin)";
  }},
  {[](const settings& s) -> std::string {
    if (s.cluster_member_ttl_ms() > 2 * s.cluster_heartbeat_ms())
      return {};
    return "cluster.member-ttl-ms must be more than twice "
           "cluster.heartbeat-ms (one late heartbeat must not drop a node)";
  }},
  {[](const settings& s) -> std::string {
    if (!s.cluster_enabled() || !s.cluster_node_id().empty()
        || s.remote_port() != 0)
      return {};
    return "cluster.enabled with remote.port 0 needs cluster.node-id (the "
           "default, remote.bind:remote.port, would not name this node)";
  }},
  // One URI picks the cold store; mongodb.uri is its older MongoDB-only
  // name. Neither URI is quoted: it may carry a password.
  {[](const settings& s) -> std::string {
    if (cold_backend_of(s.cold_uri()))
      return {};
    return from(s, setting_id::cold_uri) + ": unknown scheme; use "
           + known_schemes;
  }},
  {[](const settings& s) -> std::string {
    auto b = cold_backend_of(s.mongodb_uri());
    if (b == cold_backend::none || b == cold_backend::mongodb)
      return {};
    return from(s, setting_id::mongodb_uri)
           + ": not a MongoDB URI (mongodb:// or mongodb+srv://); set "
             "cold.uri for another backend";
  }},
  {[](const settings& s) -> std::string {
    if (s.cold_uri().empty() || s.mongodb_uri().empty()
        || s.cold_uri() == s.mongodb_uri())
      return {};
    return from(s, setting_id::cold_uri) + " and "
           + from(s, setting_id::mongodb_uri)
           + " are both set and differ: mongodb.uri is a synonym of "
             "cold.uri; set one of them";
  }},
  {[](const settings& s) -> std::string {
    if (migrate_mode_of(s.cold_migrate()))
      return {};
    return from(s, setting_id::cold_migrate)
           + " must be one of never, if-missing, always-up";
  }},
  {[](const settings& s) -> std::string {
    if (s.cold_open_max_s() >= s.cold_open_base_s())
      return {};
    return "cold.open-max-s must be at least cold.open-base-s";
  }},
  // A TTL expires the hot copy only (invariant 6): it needs the cold store
  // that holds everything and reads an expired session back. Without one,
  // the hot copy is the only copy, and expiry would delete the session (a
  // Baileys account reading "not found" is logged out, invariant 4).
  {[](const settings& s) -> std::string {
    if (s.redis_hot_ttl_s().count() == 0 || !s.cold_store_uri().empty())
      return {};
    return from(s, setting_id::redis_hot_ttl_s)
           + " needs a cold store (cold.uri): without one the hot copy is "
             "the only copy, and its expiry would delete the session";
  }},
  {[](const settings& s) -> std::string {
    if (s.outbox_backoff_max_ms() >= s.outbox_backoff_base_ms())
      return {};
    return "outbox.backoff-max-ms must be at least outbox.backoff-base-ms";
  }},
  {[](const settings& s) -> std::string {
    if (s.session_request_timeout_ms() > s.redis_command_timeout_ms())
      return {};
    return "session.request-timeout-ms must be larger than "
           "redis.command-timeout-ms, so that Redis errors reach callers "
           "before their own timeout";
  }},
  {[](const settings& s) -> std::string {
    if (s.remote_connection_timeout_ms() > 2 * s.remote_heartbeat_ms())
      return {};
    return "remote.connection-timeout-ms must be larger than twice "
           "remote.heartbeat-ms, or one late heartbeat drops a healthy peer";
  }},
  {[](const settings& s) -> std::string {
    if (s.remote_request_timeout_ms()
        > s.session_request_timeout_ms() + reply_margin)
      return {};
    return "remote.request-timeout-ms must be larger than "
           "session.request-timeout-ms + 1000 (the reply margin), so that "
           "the server's own errors reach remote callers before their "
           "timeout";
  }},
  {[](const settings& s) -> std::string {
    return tls_files_incomplete(s.remote_tls_cert(), s.remote_tls_key(),
                                s.remote_tls_ca());
  }},
};

} // namespace

const std::vector<setting_spec>& setting_specs() {
  return specs;
}

const setting_spec* find_setting(const std::string& key) {
  for (const auto& s : specs)
    if (key == s.key)
      return &s;
  return nullptr;
}

std::string tls_files_incomplete(const std::string& cert,
                                 const std::string& key,
                                 const std::string& ca) {
  std::pair<const char*, const std::string*> rows[]
    = {{"remote.tls-cert", &cert},
       {"remote.tls-key", &key},
       {"remote.tls-ca", &ca}};
  std::string set_keys;
  std::string unset_keys;
  for (auto& [name, path] : rows) {
    auto& list = path->empty() ? unset_keys : set_keys;
    list += (list.empty() ? "" : ", ") + std::string{name};
  }
  if (set_keys.empty() || unset_keys.empty())
    return {};
  return unset_keys + " must be set too: TLS (turned on by " + set_keys
         + ") needs a certificate, its key and the CA that signs the peer's "
           "certificate";
}

std::string_view to_string(cold_backend x) {
  switch (x) {
    case cold_backend::mongodb:
      return "mongodb";
    case cold_backend::postgresql:
      return "postgresql";
    default:
      return "none";
  }
}

std::optional<cold_backend> cold_backend_of(std::string_view uri) {
  if (uri.empty())
    return cold_backend::none;
  auto starts = [&](std::string_view scheme) {
    return uri.substr(0, scheme.size()) == scheme;
  };
  if (starts("mongodb://") || starts("mongodb+srv://"))
    return cold_backend::mongodb;
  if (starts("postgresql://") || starts("postgres://"))
    return cold_backend::postgresql;
  return std::nullopt;
}

const std::string& settings::cold_store_uri() const {
  return cold_uri().empty() ? mongodb_uri() : cold_uri();
}

cold_backend settings::cold_store_backend() const {
  return cold_backend_of(cold_store_uri()).value_or(cold_backend::none);
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

namespace {

/// `url` with the value of every `password=` query parameter replaced.
std::string redact_query(std::string url) {
  auto query = url.find('?');
  if (query == std::string::npos)
    return url;
  static const std::string key = "password=";
  for (auto at = query + 1; at < url.size();) {
    auto end = url.find('&', at);
    if (end == std::string::npos)
      end = url.size();
    if (url.compare(at, key.size(), key) == 0) {
      url.replace(at + key.size(), end - at - key.size(), "***");
      end = at + key.size() + 3;
    }
    at = end + 1;
  }
  return url;
}

} // namespace

std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  // The last '@' anywhere: a password with an unencoded '/' or '?' must
  // not end the user info early (redacting too much is harmless).
  auto at = url.rfind('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme)
    return redact_query(url);
  auto auth = url.substr(scheme + 3, at - scheme - 3);
  auto colon = auth.find(':');
  // In a Redis URL "redis://secret@host" is the password form; in the cold
  // stores' URIs (libpq, libmongoc) "user@host" is a user name without a
  // password, and stays readable.
  bool redis = url.compare(0, 5, "redis") == 0;
  if (colon == std::string::npos && !auth.empty() && !redis)
    return redact_query(url);
  std::string user = colon == std::string::npos ? "" : auth.substr(0, colon);
  return redact_query(url.substr(0, scheme + 3) + user + ":***"
                      + url.substr(at));
}

outcome<bool> settings::set(const std::string& key, const std::string& value,
                            const std::string& source) {
  const auto* spec = find_setting(key);
  if (!spec)
    return {errc::invalid_config,
            "unknown setting '" + key + "' (from " + source
              + "); `authstore config --help` lists them"};
  auto v = check(*spec, value, source);
  if (!v)
    return v.error();
  auto& e = values_[static_cast<size_t>(spec - specs.data())];
  e.text = *v;
  e.number = spec->kind == setting_kind::boolean ? (*v == "true")
             : spec->is_number() && !v->empty()  ? std::stoll(*v)
                                                 : 0;
  e.source = source;
  return true;
}

outcome<settings>
settings::load(const std::map<std::string, std::string>& flags,
               std::vector<failure>* problems) {
  settings result;
  std::vector<failure> errors;
  result.values_.resize(specs.size());
  for (const auto& s : specs)
    result.set(s.key, s.default_value, "default"); // the table's own: valid
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
    std::ifstream in{file, std::ios::binary};
    if (!in) {
      errors.push_back({errc::invalid_config, "config file '" + file
                                                + "' (from " + file_source
                                                + ") cannot be read"});
    } else {
      std::string text{std::istreambuf_iterator<char>{in}, {}};
      for (auto& line : parse_config_text(text, file)) {
        if (line)
          apply(line->key, line->value, line->where);
        else
          errors.push_back(line.error());
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
  if (!log::parse_level(result.log_level()))
    errors.push_back({errc::invalid_config,
                      from(result, setting_id::log_level)
                        + " must be one of debug, info, warn, error, off"});
  if (errors.empty())
    for (const auto& r : rules)
      if (auto problem = r.check(result); !problem.empty())
        errors.push_back({errc::invalid_config, std::move(problem)});
  if (!errors.empty()) {
    auto first = errors.front();
    if (problems)
      *problems = std::move(errors);
    return first;
  }
  return result;
}

const std::string& settings::source(setting_id id) const {
  return values_[static_cast<size_t>(id)].source;
}

std::string settings::describe() const {
  std::ostringstream out;
  for (size_t i = 0; i < specs.size(); ++i) {
    auto v = values_[i].text;
    if (specs[i].secret_url)
      v = redact_url(v);
    out << specs[i].key << " = " << v << "  # " << values_[i].source << '\n';
  }
  return out.str();
}

std::string settings_help() {
  std::ostringstream out;
  for (const auto& s : specs) {
    out << "  --" << s.key;
    if (s.alias)
      out << ", --" << s.alias;
    out << " <" << (s.is_number() ? "n" : "value") << ">\n      " << s.help
        << " (default "
        << (*s.default_value                        ? s.default_value
            : s.kind == setting_kind::maybe_integer ? "unset"
                                                    : "empty")
        << "; env " << env_name(s.key) << ")\n";
  }
  return out.str();
}

std::string settings_example() {
  std::ostringstream out;
  append_comment(
    out, "authstore configuration: `key = value` lines, `#` starts a comment. "
         "Every setting is listed below, commented out at its default; "
         "uncomment a line and change its value to set it. Precedence: "
         "command-line flags, then AUTHSTORE_* environment variables, then "
         "this file, then the default. Check the result with `authstore "
         "config --check --config FILE` (secrets redacted).");
  out << "#\n";
  append_comment(
    out, "No secret belongs here: the shared secret of remote access is read "
         "from the file named by remote.secret-file (the systemd unit passes "
         "its credential) or AUTHSTORE_SECRET, and a password in a URL is "
         "best given in the environment (AUTHSTORE_REDIS_URL, "
         "AUTHSTORE_MONGODB_URI).");
  out << "#\n";
  append_comment(out, "Generated from the settings table by `authstore "
                      "config --example`.");
  std::string section;
  for (const auto& s : specs) {
    std::string key = s.key;
    auto prefix = key.substr(0, key.find('.'));
    if (prefix != section) {
      section = prefix;
      auto banner = "\n# -- " + section + " ";
      out << banner << std::string(example_width - banner.size() + 1, '-')
          << '\n';
    }
    out << '\n';
    std::string help = s.help;
    if (help.back() != '.')
      help += '.';
    append_comment(out, help);
    auto domain = value_domain(s);
    out << "# " << (domain.empty() ? "" : domain + " ") << "Env "
        << env_name(key) << ".\n";
    // No trailing blank when the default is empty ("key =" loads as "").
    out << '#' << key << " =" << (*s.default_value ? " " : "")
        << s.default_value << '\n';
  }
  return out.str();
}

} // namespace authstore
