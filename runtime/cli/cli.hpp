// cli.hpp -- the table-driven command line (`authstore <cmd> ...`).
//
// One table of commands (cli.cpp) drives dispatch, `authstore help`,
// `authstore <cmd> --help` and the usage errors. Exit codes: 0 ok, 1 the
// operation failed, 2 usage or configuration error, 3 not found (a
// successful read of nothing). CAF-free.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace authstore {

/// One option of a command.
struct cli_option {
  const char* name;
  /// Placeholder of its argument, or nullptr for a switch.
  const char* arg;
  const char* help;
  const char* default_value = nullptr;
};

/// A parsed command line.
struct cli_args {
  std::vector<std::string> positional;
  /// Command options: name -> value ("" for switches).
  std::map<std::string, std::string> options;
  /// Configuration flags (--redis, --redis.pool-size, --config, ...).
  std::map<std::string, std::string> config_flags;

  bool has(const std::string& name) const { return options.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback) const;
};

/// One row of the command table.
struct cli_command {
  const char* name;
  int (*handler)(const cli_args&);
  const char* synopsis;
  const char* summary;
  std::vector<cli_option> options;
  /// Accepts the configuration flags of runtime/node/config.hpp.
  bool takes_config;
  const char* examples;
};

/// Exit codes.
enum exit_code : int {
  exit_ok = 0,
  exit_failed = 1,
  exit_usage = 2,
  exit_not_found = 3,
};

/// Runs the command line; returns the process exit code.
int run_cli(int argc, char** argv);

// Command handlers (cmd_*.cpp).
int cmd_get(const cli_args& args);
int cmd_set(const cli_args& args);
int cmd_del(const cli_args& args);
int cmd_normalize(const cli_args& args);
int cmd_config(const cli_args& args);
int cmd_migrate(const cli_args& args);
int cmd_sim(const cli_args& args);
int cmd_serve(const cli_args& args);
int cmd_import(const cli_args& args);
int cmd_export(const cli_args& args);
int cmd_dump(const cli_args& args);
int cmd_restore(const cli_args& args);
int cmd_keygen(const cli_args& args);
int cmd_rekey(const cli_args& args);

/// Prints "authstore <cmd>: <message>" and the usage hint to stderr; returns
/// exit_usage.
int usage_error(const char* cmd, const std::string& message);

} // namespace authstore
