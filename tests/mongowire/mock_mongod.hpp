// mock_mongod.hpp -- starts and stops tests/mongowire/mock_mongod.py.
//
// Why: each mongowire test scripts its own MongoDB wire server (mockupdb)
// and then asserts the exact commands libmongoc sent. This RAII handle runs
// the script with Debian's interpreter (/usr/bin/python3: the python3 first
// on PATH may lack the mockupdb module), reads the port it prints, exposes
// the commands it recorded, and kills the process by pid when it goes out of
// scope, so a failing test never leaves a server behind.
//
// The script writes to a temporary file rather than a pipe: it flushes each
// record before it answers, so by the time a libmongoc call returns, every
// command of that call is in the file and received() needs no waiting.
// Header-only on purpose: it is test scaffolding shared by the mongowire
// files and nothing else links it.
#pragma once

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/mongowire/temp_files.hpp"

extern char** environ;

namespace authstore::test {

/// JSON with key order kept: libmongoc's key order is part of what we assert
/// (an embedded _id {s, f} only matches a document with the same order).
using ojson = nlohmann::ordered_json;

/// One scripted mockupdb server process; see mock_mongod.py for the plan.
class mock_mongod {
public:
  /// How long the script may take to start and print its port. 10 s was
  /// too short once: at load average ~19 (a full test run beside three
  /// helpers' builds) every mini_mongod of outbox_crash_e2etest failed to
  /// start, cause not captured (a failed start now prints the script's
  /// output to stderr). Only a failed start waits this long.
  static constexpr std::chrono::seconds start_timeout{30};

  /// Starts the script with `plan` ({"steps": [...]}); port() is 0 when the
  /// script failed to start (log() says why).
  explicit mock_mongod(const ojson& plan) {
    out_path_ = make_temp_file("mock", "out");
    err_path_ = make_temp_file("mock", "err");
    std::string script = "tests/mongowire/mock_mongod.py";
    std::string plan_text = plan.dump();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(),
                                     O_WRONLY | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(),
                                     O_WRONLY | O_TRUNC, 0600);
    char* argv[] = {const_cast<char*>("/usr/bin/python3"),
                    const_cast<char*>(script.c_str()),
                    const_cast<char*>(plan_text.c_str()), nullptr};
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv, environ) != 0)
      pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
    if (pid_ != 0)
      wait_for_port();
    if (port_ == 0)
      std::fprintf(stderr, "mock_mongod did not start:\n%s\n", log().c_str());
  }

  mock_mongod(const mock_mongod&) = delete;
  mock_mongod& operator=(const mock_mongod&) = delete;

  /// Kills the script by pid and removes its files.
  ~mock_mongod() {
    if (pid_ != 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    std::remove(out_path_.c_str());
    std::remove(err_path_.c_str());
  }

  /// The listening port, 0 if the script did not start.
  uint16_t port() const { return port_; }

  /// A URI for this server with the given query options ("a=1&b=2").
  std::string uri(const std::string& options) const {
    return "mongodb://127.0.0.1:" + std::to_string(port_) + "/?" + options;
  }

  /// Every command received so far, in arrival order (see mock_mongod.py).
  std::vector<ojson> received() const {
    std::vector<ojson> result;
    std::istringstream lines(read_whole_file(out_path_));
    std::string line;
    std::getline(lines, line); // the port
    while (std::getline(lines, line))
      if (!line.empty())
        result.push_back(ojson::parse(line));
    return result;
  }

  /// The script's stdout and stderr, for INFO() on failure.
  std::string log() const {
    return "mock stdout:\n" + read_whole_file(out_path_) + "mock stderr:\n"
           + read_whole_file(err_path_);
  }

private:
  void wait_for_port() {
    auto deadline = std::chrono::steady_clock::now() + start_timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::string text = read_whole_file(out_path_);
      auto eol = text.find('\n');
      if (eol != std::string::npos) {
        port_ = static_cast<uint16_t>(std::atoi(text.substr(0, eol).c_str()));
        return;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = 0; // exited early: log() holds the traceback
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  pid_t pid_ = 0;
  uint16_t port_ = 0;
  std::string out_path_;
  std::string err_path_;
};

} // namespace authstore::test
