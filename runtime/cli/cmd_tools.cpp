// cmd_tools.cpp -- `authstore normalize` (the codec's public face),
// `authstore config --check | --example` and `authstore migrate`.
#include <iostream>

#include "messages/codec.hpp"
#include "runtime/cli/cmd_common.hpp"
#include "runtime/engine/engine.hpp"

namespace authstore {

int cmd_normalize(const cli_args& args) {
  if (!args.positional.empty())
    return usage_error("normalize", "reads stdin; takes no arguments");
  auto cfg = load_settings("normalize", args);
  if (!cfg)
    return exit_usage;
  codec_limits limits;
  limits.max_value_bytes = cfg->codec_max_value_bytes();
  limits.max_depth = cfg->codec_max_depth();
  limits.max_fields = cfg->codec_max_fields();
  auto out = normalize_text(read_stdin(), limits);
  if (!out)
    return report_failure("normalize", out.error());
  std::cout << *out << '\n';
  return exit_ok;
}

int cmd_config(const cli_args& args) {
  if (args.has("check") == args.has("example"))
    return usage_error("config", "say --check or --example");
  if (args.has("example")) {
    // The table's defaults only: a file generated where AUTHSTORE_* is set
    // must not carry those values.
    if (!args.config_flags.empty() || !args.positional.empty())
      return usage_error("config", "--example prints the table's defaults; "
                                   "it takes no configuration or arguments");
    std::cout << settings_example();
    return exit_ok;
  }
  auto cfg = load_settings("config", args);
  if (!cfg)
    return exit_usage;
  std::cout << cfg->describe();
  return exit_ok;
}

int cmd_migrate(const cli_args& args) {
  if (!args.positional.empty())
    return usage_error("migrate",
                       "unexpected argument '" + args.positional[0] + "'");
  auto cfg = load_settings("migrate", args);
  if (!cfg)
    return exit_usage;
  if (cfg->cold_store_uri().empty())
    return usage_error("migrate", "no cold store: give --cold URI (or "
                                  "AUTHSTORE_COLD_URI)");
  // A bad URI or bound is a configuration error (2); everything the server
  // says, or its silence, is the operation failing (1).
  if (auto ok = check_cold_config(*cfg); !ok) {
    std::cerr << "authstore migrate: " << ok.error().render() << '\n';
    return exit_usage;
  }
  bool check = args.has("check");
  std::cout << "authstore migrate: " << (check ? "checking" : "preparing")
            << " the " << to_string(cfg->cold_store_backend())
            << " cold store at " << redact_url(cfg->cold_store_uri())
            << std::endl;
  auto r = prepare_cold_store(*cfg, check ? cold_prepare::check
                                          : cold_prepare::migrate);
  if (!r)
    return report_failure("migrate", r.error());
  std::cout << "authstore migrate: done: " << r->detail << std::endl;
  return exit_ok;
}

} // namespace authstore
