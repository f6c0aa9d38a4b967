// cmd_common.cpp -- see cmd_common.hpp.
#include "runtime/cli/cmd_common.hpp"

#include <cstdlib>
#include <iostream>
#include <iterator>

#include "runtime/engine/engine.hpp"
#include "runtime/remote/client.hpp"

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

namespace {

/// Loads settings and starts the engine; prints problems itself.
std::unique_ptr<engine> open_engine(const char* cmd, const cli_args& args,
                                    int& rc) {
  auto cfg = load_settings(cmd, args);
  if (!cfg) {
    rc = exit_usage;
    return nullptr;
  }
  auto e = engine::start(*cfg);
  if (!e) {
    rc = report_failure(cmd, e.error());
    return nullptr;
  }
  return std::move(*e);
}

} // namespace

std::unique_ptr<session_store> open_store(const char* cmd, const cli_args& args,
                                          int& rc) {
  std::unique_ptr<session_store> result;
  if (!args.has("connect"))
    return open_engine(cmd, args, rc);
  auto ep = parse_endpoint(args.get("connect", ""));
  if (!ep) {
    rc = usage_error(cmd, ep.error().render());
    return result;
  }
  auto cfg = load_settings(cmd, args);
  if (!cfg) {
    rc = exit_usage;
    return result;
  }
  auto opts = remote_options::from(*cfg);
  if (!opts) {
    report_failure(cmd, opts.error());
    rc = exit_usage;
    return result;
  }
  auto c = remote_client::connect(ep->first, ep->second, std::move(*opts));
  if (!c) {
    rc = report_failure(cmd, c.error());
    return result;
  }
  return std::move(*c);
}

std::string read_stdin() {
  return {std::istreambuf_iterator<char>{std::cin},
          std::istreambuf_iterator<char>{}};
}

} // namespace authstore
