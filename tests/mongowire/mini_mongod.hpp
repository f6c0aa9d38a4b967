// mini_mongod.hpp -- starts, kills, restarts, pauses and resumes
// tests/mongowire/mini_mongod.py, the stateful in-memory MongoDB.
//
// Why: end-to-end tests need a cold store that keeps its data and that they
// can take down the ways a real one goes down: stopped (kill -9), restarted
// with its data (same port, same data file), or hung (SIGSTOP, so the kernel
// still accepts connections but nothing answers). No real mongod exists on
// the test machines; mini_mongod.py serves exactly the commands mongo_store
// sends and writes its state to a data file before it acknowledges a write.
//
// This RAII handle runs the script with Debian's interpreter
// (/usr/bin/python3: the python3 first on PATH may lack mockupdb), with the
// script path relative to the repository root (the tests' working
// directory). The constructor starts it on a kernel-chosen port with a fresh
// temporary data file; restart() reuses both. The destructor kills the
// process by pid and removes its files, so a failing test never leaves a
// server behind. stdout and stderr go to temporary files that are appended
// to across restarts, so log() shows every run.
// Header-only on purpose: test scaffolding, linked by nothing else.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/sim/process_state.hpp"
#include "tests/mongowire/temp_files.hpp"

extern char** environ;

namespace authstore::test {

/// One mini_mongod.py process and its data file (see mini_mongod.py).
class mini_mongod {
public:
  /// How long the script may take to start and print its port. 10 s was
  /// too short once: at load average ~19 (a full test run beside three
  /// helpers' builds) every mini_mongod of outbox_crash_e2etest failed to
  /// start, cause not captured (a failed start now prints the script's
  /// output to stderr). Only a failed start waits this long.
  static constexpr std::chrono::seconds start_timeout{30};

  /// Starts a server with an empty data file on a kernel-chosen port;
  /// port() is 0 when it failed to start (log() says why).
  mini_mongod() {
    data_path_ = make_temp_file("mini", "data");
    out_path_ = make_temp_file("mini", "out");
    err_path_ = make_temp_file("mini", "err");
    if (!start(0))
      std::fprintf(stderr, "mini_mongod did not start:\n%s\n", log().c_str());
  }

  mini_mongod(const mini_mongod&) = delete;
  mini_mongod& operator=(const mini_mongod&) = delete;

  /// Kills the process (even a paused one) and removes its files.
  ~mini_mongod() {
    kill();
    for (const std::string& path :
         {data_path_, data_path_ + ".tmp", out_path_, err_path_})
      std::remove(path.c_str());
  }

  /// The listening port; stays the same across kill() and restart(). 0 if
  /// the first start failed.
  uint16_t port() const { return port_; }

  /// The data file (a log of BSON records; see mini_mongod.py).
  const std::string& data_file() const { return data_path_; }

  /// True while the process runs (paused counts as running).
  bool running() const { return pid_ != 0; }

  /// A URI for this server with the given query options ("a=1&b=2").
  std::string uri(const std::string& options) const {
    return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?" + options;
  }

  /// Stops the server the hard way (SIGKILL, then waits for it): what it
  /// acknowledged is in the data file, connections are reset.
  void kill() {
    if (pid_ == 0)
      return;
    ::kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

  /// Starts the server again on the same port with the same data file (a
  /// running one is killed first); true once it listens again.
  bool restart() {
    kill();
    return port_ != 0 && start(port_);
  }

  /// Freezes the process (SIGSTOP): connections are still accepted by the
  /// kernel, but no command is answered until resume().
  void pause() {
    if (pid_ != 0)
      stop_and_wait(pid_);
  }

  /// Unfreezes a paused process (SIGCONT); it then answers what it queued.
  void resume() {
    if (pid_ != 0)
      ::kill(pid_, SIGCONT);
  }

  /// Everything the script wrote to stderr in all its runs: unsupported
  /// commands and internal errors, one line each. Empty when all is well.
  std::string errors() const { return read_whole_file(err_path_); }

  /// stdout and stderr of every run, for INFO() on failure.
  std::string log() const {
    return "mini_mongod stdout:\n" + read_whole_file(out_path_)
           + "mini_mongod stderr:\n" + read_whole_file(err_path_);
  }

private:
  // Spawns the script on `port` (0: any) and waits until it prints the port
  // it listens on. stdout is appended to, so the port of this run is the
  // first line after what the file held before.
  bool start(uint16_t port) {
    size_t offset = read_whole_file(out_path_).size();
    std::string script = "tests/mongowire/mini_mongod.py";
    std::string port_text = std::to_string(port);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(),
                                     O_WRONLY | O_APPEND, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(),
                                     O_WRONLY | O_APPEND, 0600);
    char* argv[] = {const_cast<char*>("/usr/bin/python3"),
                    const_cast<char*>(script.c_str()),
                    const_cast<char*>("--data-file"),
                    const_cast<char*>(data_path_.c_str()),
                    const_cast<char*>("--port"),
                    const_cast<char*>(port_text.c_str()),
                    nullptr};
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) != 0)
      pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    return pid_ != 0 && wait_for_port(offset, port);
  }

  bool wait_for_port(size_t offset, uint16_t wanted) {
    auto deadline = std::chrono::steady_clock::now() + start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = read_whole_file(out_path_);
      auto eol = text.find('\n', offset);
      if (eol != std::string::npos) {
        auto got = static_cast<uint16_t>(
          std::atoi(text.substr(offset, eol - offset).c_str()));
        if (wanted == 0)
          port_ = got;
        return got != 0 && got == port_;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0; // exited early (port taken?): log() holds the traceback
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  pid_t pid_ = 0;
  uint16_t port_ = 0;
  std::string data_path_;
  std::string out_path_;
  std::string err_path_;
};

} // namespace authstore::test
