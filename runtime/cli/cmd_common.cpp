// cmd_common.cpp -- see cmd_common.hpp.
#include "runtime/cli/cmd_common.hpp"

#include <iostream>
#include <iterator>

namespace authstore {

std::optional<settings> load_settings(const char* cmd, const cli_args& args) {
  std::vector<failure> problems;
  auto s = settings::load(args.config_flags, &problems);
  if (s)
    return std::move(*s);
  for (const auto& p : problems)
    std::cerr << "authstore " << cmd << ": " << p.render() << '\n';
  return std::nullopt;
}

int report_failure(const char* cmd, const failure& f) {
  std::cerr << "authstore " << cmd << ": " << f.render() << '\n';
  return exit_failed;
}

std::string read_stdin() {
  return {std::istreambuf_iterator<char>{std::cin},
          std::istreambuf_iterator<char>{}};
}

} // namespace authstore
