// cmd_common.hpp -- what the CLI commands share: loading the configuration
// (every problem reported, each naming its setting), opening the store (the
// engine here or a remote node) and printing failures as one line that
// starts with the error's stable token.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "messages/errors.hpp"
#include "runtime/cli/cli.hpp"
#include "runtime/node/config.hpp"
#include "runtime/node/session_store.hpp"

namespace authstore {

/// Time `authstore serve`'s watchdog allows beyond the drain bound for
/// tearing down the actor system (stopping Redis actors, closing sockets)
/// before it ends the process. deploy/systemd/authstore.service.in's
/// TimeoutStopSec must exceed the drain bound plus this (deploy_test).
/// The default of serve.stop-margin-ms (settings.def).
constexpr std::chrono::seconds serve_watchdog_margin{5};

/// Ends the process with `code` if it is not destroyed within `bound`
/// (the thread it starts waits on a condition variable, nothing else).
/// Bounds a teardown that can block on a peer: the engine's actor system
/// waits for every detached actor, and a libmongoc or hiredis call in
/// flight ends only with its own socket timeout.
class watchdog {
public:
  /// On expiry prints "authstore <cmd>: <what> took longer than N ms;
  /// exiting now" (plus `note`) and calls std::_Exit(code).
  watchdog(std::chrono::milliseconds bound, std::string cmd, std::string what,
           int code, std::string note = {});
  ~watchdog();
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

private:
  std::mutex mx_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// Loads settings from the command's config flags, env and file. On failure
/// prints every problem to stderr and returns nullopt (exit_usage).
std::optional<settings> load_settings(const char* cmd, const cli_args& args);

/// Prints "authstore <cmd>: <token>: <detail>" to stderr; returns
/// exit_failed.
int report_failure(const char* cmd, const failure& f);

/// Opens the engine in this process, or with --connect HOST:PORT connects
/// and authenticates to a remote node (`authstore serve`); prints problems
/// itself and sets `rc` (exit_usage for configuration, exit_failed for the
/// rest) when it returns null.
std::unique_ptr<session_store> open_store(const char* cmd, const cli_args& args,
                                          int& rc);

/// Reads all of stdin.
std::string read_stdin();

} // namespace authstore
