// cmd_tools.cpp -- `authstore normalize` (the codec's public face) and
// `authstore config --check`.
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
  if (!args.has("check"))
    return usage_error("config", "say --check");
  auto cfg = load_settings("config", args);
  if (!cfg)
    return exit_usage;
  std::cout << cfg->describe();
  return exit_ok;
}

} // namespace authstore
