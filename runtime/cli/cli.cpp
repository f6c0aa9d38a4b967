// cli.cpp -- the command table, parsing, help and dispatch (cli.hpp).
#include "runtime/cli/cli.hpp"

#include <cstring>
#include <iostream>

#include "observe/build_info.hpp"
#include "runtime/node/config.hpp"

namespace authstore {

namespace {

// clang-format off
const std::vector<cli_command> commands = {
  {"serve", cmd_serve,
   "authstore serve [--port P] [--bind ADDR] [--api.port P]",
   "Start the engine and publish it for remote clients (`authstore "
   "get|set|del --connect`, runtime/remote/client.hpp) through CAF's "
   "middleman. With a cold store (--cold URI) it is made ready first: "
   "PostgreSQL's schema as cold.migrate allows, the role's privileges and "
   "a writable server; MongoDB's index. An unknown scheme, an unreachable "
   "server, missing privileges or a schema of another version stop it "
   "there (exit 2), before any session is served. A peer must prove the "
   "shared secret (--secret-file PATH or AUTHSTORE_SECRET; never a "
   "command-line value) before any request is served; the traffic itself "
   "is NOT encrypted unless remote.tls-* are set (README: Remote access). "
   "With --api.port, also serves the HTTP API (docs/HTTP-API.md; "
   "`Authorization: Bearer` with the same secret; HTTPS with the "
   "remote.tls-* files). Prints `authstore: listening on ADDR:PORT` once "
   "ready, then `authstore: api listening on ADDR:PORT` with the API. "
   "SIGTERM/SIGINT: close the ports, answer every request in flight, exit "
   "0.",
   {{"port", "P", "TCP port; 0 picks a free one (overrides remote.port)",
     "7447"},
    {"bind", "ADDR", "address to listen on (overrides remote.bind)",
     "127.0.0.1"},
    {"insecure-no-auth", nullptr, "serve without a shared secret; allowed "
     "on a loopback address only", nullptr}},
   true,
   "  authstore serve --port 7447 --secret-file /etc/authstore/secret\n"
   "  AUTHSTORE_SECRET=$(cat /run/secrets/authstore) authstore serve "
   "--port 0 --redis redis://127.0.0.1:6379/0\n"
   "  AUTHSTORE_COLD_URI='postgresql://authstore:PASSWORD@db/authstore' "
   "authstore serve --secret-file /etc/authstore/secret\n"
   "  authstore serve --secret-file /etc/authstore/secret --api.port 8447 "
   "--http.port 9447\n"
   "  curl -H \"Authorization: Bearer $(cat /etc/authstore/secret)\" "
   "http://127.0.0.1:8447/v1/sessions/5511999/creds"},
  {"sim", cmd_sim, "authstore sim [options]",
   "Drive simulated WhatsApp sessions through the engine and report "
   "latency, throughput and verification (lost/unexpected writes).",
   {{"sessions", "N", "simulated sessions", "100"},
    {"concurrency", "N", "sessions driven at once (one driver actor each)",
     "32"},
    {"duration", "SECONDS", "steady-state time after the connect bursts "
     "(ignored with --ops)", "10"},
    {"ops", "N", "steady-state operations in total instead of --duration",
     nullptr},
    {"read-ratio", "R", "share of steady-state operations that are reads",
     "0.5"},
    {"seed", "N", "random seed (printed; a run is reproducible with it)",
     "time-based"},
    {"json", "FILE", "also write the report as JSON to FILE", nullptr},
    {"redis-server", "PATH", "redis-server binary used when --redis is not "
     "given (the simulator starts and stops its own)", "redis-server"},
    {"connect", "HOST:PORT[,HOST:PORT...]", "drive remote nodes (`authstore "
     "serve`) through the client library instead of an engine in this "
     "process; with several (nodes of one cluster), each session is driven "
     "through one of them in turn; secret from --secret-file or "
     "AUTHSTORE_SECRET", nullptr},
    {"no-connect-burst", nullptr, "skip the connect bursts (sessions start "
     "connected; for runs with very many sessions)", nullptr},
    {"cold-server", "postgresql", "start a private PostgreSQL 15 (initdb "
     "into a temp dir, a free loopback port, fsync on; stopped at exit) and "
     "use it as the cold store instead of cold.uri", nullptr},
    {"postgres-bin", "DIR", "where --cold-server finds initdb, postgres and "
     "pg_ctl", "/usr/lib/postgresql/15/bin"},
    {"fault", "SPEC", "inject faults into what the simulator started: "
     "redis-pause@T:D (SIGSTOP its redis-server at T s for D s), "
     "redis-kill@T:D (SIGKILL at T s, restart after D s; the server then "
     "runs with appendfsync always, so acknowledged writes must survive), "
     "cold-open@T:D (with a cold store: its circuit forced open at T s for "
     "D s, every persist refused; the outbox must drain after), "
     "cold-pause@T:D and cold-kill@T:D (with --cold-server: SIGSTOP, or "
     "SIGKILL and restart with crash recovery, of the PostgreSQL and every "
     "backend); several separated by commas. The report splits latencies "
     "into before, during and after the faults", nullptr},
    {"drain-timeout-s", "SECONDS", "with a cold store (--cold): after the "
     "load, wait this long for the outbox backlog to empty (the run fails "
     "if it does not), then compare every session's cold and hot version",
     "120"},
    {"quiet", nullptr, "no live progress line", nullptr}},
   true,
   "  authstore sim --sessions 100 --duration 10\n"
   "  authstore sim --sessions 1000 --concurrency 100 --ops 200000 --seed 7 "
   "--json report.json\n"
   "  authstore sim --sessions 1000000 --concurrency 1000 --ops 2000000 "
   "--no-connect-burst --session.max-live 100000\n"
   "  authstore sim --duration 20 --fault redis-pause@5:2,redis-kill@12:1\n"
   "  authstore sim --cold-server postgresql --duration 60 --fault "
   "cold-pause@15:30\n"
   "  authstore sim --cold postgresql://authstore@db.internal/authstore "
   "--duration 30\n"
   "  AUTHSTORE_REDIS_URL=redis://127.0.0.1:6379/0 authstore sim"},
  {"get", cmd_get, "authstore get SID [--keys TYPE ID...]",
   "Print a session's creds as {\"creds\": {...}, \"version\": N}, or with "
   "--keys the named keys as {\"TYPE\": {\"ID\": value}} (absent ids left "
   "out). Exit 3 with `not found` when the session has no creds.",
   {{"keys", nullptr, "read keys: the next argument is the type, the rest "
     "are ids", nullptr},
    {"connect", "HOST:PORT", "use a remote node (`authstore serve`) instead "
     "of Redis; the secret comes from --secret-file or AUTHSTORE_SECRET",
     nullptr}},
   true,
   "  authstore get 5511999 --redis redis://127.0.0.1:6379/0\n"
   "  authstore get 5511999 --keys pre-key 1 2 3\n"
   "  authstore get 5511999 --cold postgresql://authstore@db/authstore   "
   "# a session Redis lacks is read from the cold store\n"
   "  authstore get 5511999 --connect 127.0.0.1:7447 --secret-file "
   "/etc/authstore/secret"},
  {"set", cmd_set, "authstore set SID < patch.json",
   "Apply a patch read from stdin: {\"creds\": {\"field\": value-or-null}, "
   "\"keys\": {\"TYPE\": {\"ID\": value-or-null}}}; both parts optional, "
   "null deletes. Prints {\"version\": N} once Redis acknowledged.",
   {{"expect-version", "N", "apply only if the session is at version N "
     "(0: does not exist yet); else version_conflict", nullptr},
    {"connect", "HOST:PORT", "use a remote node (`authstore serve`) instead "
     "of Redis; the secret comes from --secret-file or AUTHSTORE_SECRET",
     nullptr}},
   true,
   "  echo '{\"creds\":{\"registered\":true}}' | authstore set 5511999\n"
   "  authstore set 5511999 --expect-version 41 < patch.json"},
  {"del", cmd_del, "authstore del SID",
   "Delete a session. Prints {\"existed\": true}; exit 3 with `not found` "
   "when it did not exist.",
   {{"connect", "HOST:PORT", "use a remote node (`authstore serve`) instead "
     "of Redis; the secret comes from --secret-file or AUTHSTORE_SECRET",
     nullptr}}, true,
   "  authstore del 5511999\n"
   "  AUTHSTORE_SECRET=... authstore del 5511999 --connect 10.0.0.5:7447"},
  {"import", cmd_import,
   "authstore import (--folder DIR --session SID | --folders PARENT)",
   "Import Baileys useMultiFileAuthState folders: creds.json and one "
   "<type>-<id>.json per key, read as Baileys 7 reads them (its file-name "
   "escaping undone; all three Buffer forms accepted, stored in the v7 "
   "form). Each session is one atomic write: a folder with a bad file "
   "(invalid JSON, a value over a codec limit, a file that is not a "
   "Baileys file, any symbolic link, a FIFO or device) is reported with the "
   "file and the reason, and nothing of it is written. A session that "
   "exists (live) is refused unless --replace or --if-absent. Failures go "
   "to stderr as they happen, a summary at the end; exit 1 if any session "
   "failed.",
   {{"folder", "DIR", "one session folder (with --session)", nullptr},
    {"session", "SID", "the session id of --folder", nullptr},
    {"folders", "PARENT", "every sub-folder of PARENT is one session, named "
     "after it (an invalid name is reported and skipped; entries that are "
     "no folders are left alone)", nullptr},
    {"replace", nullptr, "replace an existing session: its old creds and "
     "keys go in the same atomic write", nullptr},
    {"if-absent", nullptr, "leave an existing session as it is (counted "
     "unchanged): importing the same folders twice is a no-op", nullptr},
    {"progress", nullptr, "print progress (sessions, rate, ETA) to stderr "
     "even when it is no terminal", "on a terminal only"},
    {"connect", "HOST:PORT", "import through a remote node (`authstore "
     "serve`); the secret comes from --secret-file or AUTHSTORE_SECRET",
     nullptr}},
   true,
   "  authstore import --folder ./auth_info_baileys --session 5511999 "
   "--redis redis://127.0.0.1:6379/0\n"
   "  authstore import --folders /srv/bot/sessions --if-absent\n"
   "  authstore import --folders ./sessions --replace --connect "
   "10.0.0.5:7447 --secret-file /etc/authstore/secret"},
  {"export", cmd_export, "authstore export --session SID --folder DIR",
   "Write a session as a useMultiFileAuthState folder that Baileys loads: "
   "the same file names (fixFileName escaping), key files byte for byte as "
   "Baileys writes them, creds.json with its fields in Baileys' order. The "
   "session is read in one consistent snapshot. The folder is built beside "
   "DIR and renamed into place (a crash leaves no half folder); files are "
   "mode 0600. Exit 3 with `not found` when the session does not exist.",
   {{"session", "SID", "the session to export", nullptr},
    {"folder", "DIR", "the folder to create (or an empty one to fill)",
     nullptr},
    {"force", nullptr, "replace a non-empty DIR (swapped atomically, its "
     "old contents deleted)", nullptr},
    {"connect", "HOST:PORT", "read through a remote node (`authstore "
     "serve`)", nullptr}},
   true,
   "  authstore export --session 5511999 --folder ./auth_info_baileys\n"
   "  authstore export --session 5511999 --folder /srv/bot/5511999 --force"},
  {"dump", cmd_dump, "authstore dump [--out FILE|-] [--sessions FILE] "
   "[--gzip]",
   "Write every live session Redis holds (a SCAN walk over the session "
   "meta keys; deleted sessions left out) as JSON Lines, one session per "
   "line, each a consistent snapshot at one version: {\"session\", "
   "\"version\", \"creds\", \"keys\"}. Runs while the node serves traffic. "
   "With a cold store and redis.hot-ttl-s, sessions that expired from "
   "Redis are not in the walk: name them with --sessions. A FILE is "
   "written beside itself and renamed when complete (mode 0600: a dump "
   "holds private keys). Exit 1 if any session could not be read.",
   {{"out", "FILE", "where to write; - is stdout", "-"},
    {"sessions", "FILE", "dump only the session ids in FILE, one per line "
     "(- reads stdin); a missing one is reported", nullptr},
    {"gzip", nullptr, "compress the output (gzip, zlib)", nullptr},
    {"progress", nullptr, "print progress to stderr even when it is no "
     "terminal", "on a terminal only"},
    {"connect", "HOST:PORT", "dump through a remote node (`authstore "
     "serve`)", nullptr}},
   true,
   "  authstore dump --out backup.jsonl.gz --gzip\n"
   "  authstore dump --connect 10.0.0.5:7447 --secret-file "
   "/etc/authstore/secret > backup.jsonl\n"
   "  echo 5511999 | authstore dump --sessions - --out one.jsonl"},
  {"restore", cmd_restore, "authstore restore [--in FILE|-]",
   "Write the sessions of a dump back, each as one atomic write at its "
   "dumped version or above (a restore into an empty store keeps the "
   "versions; versions never go backwards). gzip input is detected. The "
   "rules of import apply: a live session is refused unless --replace or "
   "--if-absent; a bad line is reported and skipped; exit 1 if any failed.",
   {{"in", "FILE", "the dump to read; - is stdin", "-"},
    {"replace", nullptr, "replace existing sessions in the same write",
     nullptr},
    {"if-absent", nullptr, "leave existing sessions as they are", nullptr},
    {"progress", nullptr, "print progress to stderr even when it is no "
     "terminal", "on a terminal only"},
    {"connect", "HOST:PORT", "restore through a remote node (`authstore "
     "serve`)", nullptr}},
   true,
   "  authstore restore --in backup.jsonl.gz\n"
   "  authstore dump --redis redis://old:6379/0 | authstore restore --redis "
   "redis://new:6379/0 --if-absent"},
  {"normalize", cmd_normalize, "authstore normalize < value.json",
   "Read one Baileys JSON document on stdin and write it in the v7 Buffer "
   "form ({\"type\":\"Buffer\",\"data\":\"<base64>\"}) on stdout; a one-line "
   "error on stderr and exit 1 when it is invalid or over a limit.",
   {}, true,
   "  echo '{\"type\":\"Buffer\",\"data\":[1,2,3]}' | authstore normalize"},
  {"migrate", cmd_migrate, "authstore migrate --cold URI [--check]",
   "Create or upgrade the cold store's schema to this build's version. "
   "PostgreSQL: the tables in postgresql.schema, in one transaction under "
   "an advisory lock (nodes starting at once apply it once), then the "
   "role's privileges and a writable server are checked; a schema newer "
   "than this build's is refused and left alone. MongoDB has no schema: "
   "its index is created. Prints what it found and did. Exit 0 when the "
   "store is ready, 1 when it could not be reached or refused "
   "(credentials, privileges, a newer schema), 2 on a usage or "
   "configuration error (no cold.uri, an unknown scheme).",
   {{"check", nullptr, "change nothing: report the schema version; exit 1 "
     "unless it is this build's (MongoDB: only reach the server)",
     nullptr}},
   true,
   "  authstore migrate --cold postgresql://postgres@127.0.0.1:5432/"
   "authstore\n"
   "  AUTHSTORE_COLD_URI='postgresql://admin:PASSWORD@db/authstore"
   "?sslmode=require' authstore migrate --postgresql.schema authstore\n"
   "  authstore migrate --check --cold postgresql://authstore@db/authstore"},
  {"config", cmd_config, "authstore config --check | --example",
   "--check: print the effective configuration (secrets redacted) with the "
   "source of each value, or every problem with its setting name (exit 2). "
   "--example: print a config file listing every setting commented out at "
   "its default, with its help (the package installs it as "
   "/etc/authstore/authstore.conf); it reads no configuration.",
   {{"check", nullptr, "validate and print", nullptr},
    {"example", nullptr, "print the example config file", nullptr}},
   true,
   "  AUTHSTORE_REDIS_POOL_SIZE=4 authstore config --check\n"
   "  authstore config --check --config /etc/authstore/authstore.conf\n"
   "  authstore config --example > authstore.conf"},
  {"keygen", cmd_keygen, "authstore keygen [KEY-ID]",
   "Print a new key line for crypto.key-file (encryption at rest): KEY-ID "
   "(1..32 of A-Za-z0-9_-) and 32 random bytes in base64. Put it first in "
   "the key file to make it the active key, keep the old lines below it "
   "until `authstore rekey` reports them unused (README: Security).",
   {}, false,
   "  authstore keygen k2 >> /etc/authstore/keys.new\n"
   "  (authstore keygen; cat /etc/authstore/keys) > keys.new && "
   "mv keys.new /etc/authstore/keys"},
  {"rekey", cmd_rekey, "authstore rekey [--dry-run] [--sessions-per-s N]",
   "Re-seal every value in Redis that is plaintext or sealed with a key "
   "other than the active one (the first line of crypto.key-file), through "
   "versioned writes: a client write meanwhile is never overwritten (the "
   "session is read again), and several rekeys may run at once. Prints "
   "progress on stderr and a JSON report: values per key id still in use, "
   "and `unused_in_redis`, the ring's keys no value in Redis uses. Sessions "
   "only in the cold store are not seen (README: Security).",
   {{"dry-run", nullptr, "count only, write nothing", nullptr},
    {"sessions-per-s", "N", "at most N sessions per second (Redis load)",
     "unlimited"}},
   true,
   "  authstore rekey --crypto.key-file /etc/authstore/keys --dry-run\n"
   "  AUTHSTORE_CRYPTO_KEY_FILE=/etc/authstore/keys authstore rekey "
   "--sessions-per-s 500"},
};
// clang-format on

const cli_command* find_command(const std::string& name) {
  for (const auto& c : commands)
    if (name == c.name)
      return &c;
  return nullptr;
}

void print_overview(std::ostream& out) {
  out << "authstore -- WhatsApp/Baileys auth state in Redis (hot) and a "
         "durable cold store (PostgreSQL or MongoDB)\n\nUsage: authstore "
         "<command> [options]\n\n"
         "Commands:\n";
  for (const auto& c : commands)
    out << "  " << c.name << std::string(12 - std::strlen(c.name), ' ')
        << c.synopsis << '\n';
  out << "  help        authstore help [COMMAND]\n"
         "  version     authstore version\n\n"
         "`authstore <command> --help` describes a command and every flag.\n"
         "Exit codes: 0 ok, 1 the operation failed, 2 usage or configuration "
         "error, 3 not found.\n";
}

void print_command_help(const cli_command& c, std::ostream& out) {
  out << "Usage: " << c.synopsis << "\n\n" << c.summary << "\n";
  if (!c.options.empty()) {
    out << "\nOptions:\n";
    for (const auto& o : c.options) {
      out << "  --" << o.name;
      if (o.arg)
        out << " <" << o.arg << ">";
      out << "\n      " << o.help;
      if (o.default_value)
        out << " (default " << o.default_value << ")";
      out << '\n';
    }
  }
  if (c.takes_config) {
    out << "\nConfiguration (flags beat environment, which beats the config "
           "file, which beats the default):\n"
           "  --config <FILE>\n      file of `key = value` lines (env "
           "AUTHSTORE_CONFIG)\n"
        << settings_help();
  }
  out << "\nExamples:\n" << c.examples << '\n';
}

bool is_config_flag(const std::string& name) {
  if (name == "config")
    return true;
  for (const auto& s : setting_specs())
    if (name == s.key || (s.alias && name == s.alias))
      return true;
  return false;
}

} // namespace

std::string cli_args::get(const std::string& name,
                          const std::string& fallback) const {
  auto i = options.find(name);
  return i == options.end() ? fallback : i->second;
}

int usage_error(const char* cmd, const std::string& message) {
  std::cerr << "authstore " << cmd << ": " << message << "\n(see `authstore "
            << cmd << " --help`)\n";
  return exit_usage;
}

int run_cli(int argc, char** argv) {
  if (argc < 2) {
    print_overview(std::cerr);
    return exit_usage;
  }
  std::string name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    if (name == "help" && argc > 2) {
      if (const auto* c = find_command(argv[2])) {
        print_command_help(*c, std::cout);
        return exit_ok;
      }
      std::cerr << "authstore help: unknown command '" << argv[2] << "'\n";
      return exit_usage;
    }
    print_overview(std::cout);
    return exit_ok;
  }
  if (name == "version" || name == "--version") {
    std::cout << "authstore " << build_version() << " (" << build_revision()
              << ")\n";
    return exit_ok;
  }
  const auto* cmd = find_command(name);
  if (!cmd) {
    std::cerr << "authstore: unknown command '" << name << "'\n\n";
    print_overview(std::cerr);
    return exit_usage;
  }
  cli_args args;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      print_command_help(*cmd, std::cout);
      return exit_ok;
    }
    if (a.size() < 3 || a.compare(0, 2, "--") != 0) {
      args.positional.push_back(a);
      continue;
    }
    auto key = a.substr(2);
    std::string value;
    bool inline_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      inline_value = true;
    }
    const cli_option* opt = nullptr;
    for (const auto& o : cmd->options)
      if (key == o.name)
        opt = &o;
    bool config = !opt && cmd->takes_config && is_config_flag(key);
    if (!opt && !config)
      return usage_error(cmd->name, "unknown option --" + key);
    bool needs_value = config || opt->arg != nullptr;
    if (needs_value && !inline_value) {
      if (i + 1 >= argc)
        return usage_error(cmd->name, "--" + key + " needs a value");
      value = argv[++i];
    } else if (!needs_value && inline_value) {
      return usage_error(cmd->name, "--" + key + " takes no value");
    }
    (config ? args.config_flags : args.options)[key] = value;
  }
  return cmd->handler(args);
}

} // namespace authstore
