// cmd_tools.cpp -- `authstore normalize` (the codec's public face) and
// `authstore config --check | --example`.
#include <iostream>

#include "messages/codec.hpp"
#include "runtime/cli/cmd_common.hpp"

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

} // namespace authstore
