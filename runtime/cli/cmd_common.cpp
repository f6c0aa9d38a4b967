// cmd_common.cpp -- see cmd_common.hpp.
#include "runtime/cli/cmd_common.hpp"

#include <cstdlib>
#include <iostream>
#include <iterator>

namespace authstore {

watchdog::watchdog(std::chrono::milliseconds bound, std::string cmd,
                   std::string what, int code, std::string note)
    : thread_([this, bound, cmd = std::move(cmd), what = std::move(what), code,
               note = std::move(note)] {
        std::unique_lock<std::mutex> guard{mx_};
        if (!cv_.wait_for(guard, bound, [this] { return done_; })) {
          std::cout.flush();
          std::cerr << "authstore " << cmd << ": " << what
                    << " took longer than " << bound.count()
                    << " ms; exiting now" << note << '\n';
          std::cerr.flush();
          std::_Exit(code);
        }
      }) {}

watchdog::~watchdog() {
  {
    std::lock_guard<std::mutex> guard{mx_};
    done_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

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
