// remote_harness.hpp -- what the remote e2e tests share: an `authstore
// serve` child process on a free loopback port, stopped by pid (SIGKILL in
// the destructor, so a failing test never leaves a server behind), and the
// options remote clients in tests use.
//
// The child is started with fork + execve; argv and envp are built before
// fork, so the child of a threaded parent (a test that already runs a
// remote_client) only calls dup2, open, execve and _exit. Its environment
// is the test's minus every AUTHSTORE_* variable, plus what the test
// passes, so tests do not leak secrets or settings into each other.
#pragma once

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <poll.h>
#include <string>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/remote/client.hpp"
#include "runtime/sim/process_state.hpp"
#include "tests/mongowire/temp_files.hpp"

extern char** environ;

namespace remote_test {

/// The shared secret of the tests (never a real one).
inline const std::string secret = "e2e-shared-secret-0123456789";

/// Client options for tests: the test secret, one scheduler thread, and
/// short backoffs so reconnect tests stay fast.
inline authstore::remote_options client_options() {
  authstore::remote_options o;
  o.secret = secret;
  o.threads = 1;
  o.backoff_min = std::chrono::milliseconds{50};
  o.backoff_max = std::chrono::milliseconds{500};
  return o;
}

/// An `authstore serve` child process (with the HTTP API when its args
/// include --api.port).
class serve_process {
public:
  /// Starts `authstore serve --port PORT --redis URL ARGS...` with `env`
  /// added to the environment (default: the test secret) and waits up to
  /// 10 s for its "listening on" line. Returns nullptr (and logs the
  /// child's stderr) when it does not come up.
  static std::unique_ptr<serve_process>
  start(const std::string& redis_url, std::vector<std::string> args = {},
        std::vector<std::string> env = {"AUTHSTORE_SECRET=" + secret},
        uint16_t port = 0) {
    auto p = std::unique_ptr<serve_process>{new serve_process};
    p->log_path_ = "/tmp/authstore-remote-e2e-" + std::to_string(::getpid())
                   + "-" + std::to_string(counter()++) + ".log";
    std::vector<std::string> argv_s = {
      binary(), "serve", "--port", std::to_string(port), "--redis", redis_url};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e)
      if (std::strncmp(*e, "AUTHSTORE_", 10) != 0)
        env_s.emplace_back(*e);
    env_s.insert(env_s.end(), env.begin(), env.end());
    auto argv = pointers(argv_s);
    auto envp = pointers(env_s);
    int out[2];
    REQUIRE(::pipe(out) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Dies with the test (a failed REQUIRE or a sanitizer report ends it
      // without destructors; an orphan node would hold its ports).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(out[1], 1);
      int log
        = ::open(p->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (log >= 0)
        ::dup2(log, 2);
      ::close(out[0]);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    p->pid_ = pid;
    p->out_ = out[0];
    auto line = p->read_line(std::chrono::seconds{10});
    auto colon = line.rfind(':');
    if (line.rfind("authstore: listening on ", 0) != 0
        || colon == std::string::npos) {
      last_failure() = p->log();
      UNSCOPED_INFO("serve did not come up; stdout: '"
                    << line << "'; stderr: " << last_failure());
      return nullptr;
    }
    p->port_ = static_cast<uint16_t>(std::stoi(line.substr(colon + 1)));
    // With the HTTP API, its line follows.
    if (std::find(args.begin(), args.end(), "--api.port") != args.end()) {
      auto api = p->read_line(std::chrono::seconds{10});
      auto c = api.rfind(':');
      if (api.rfind("authstore: api listening on ", 0) != 0
          || c == std::string::npos) {
        last_failure() = p->log();
        UNSCOPED_INFO("serve's API did not come up; stdout: '"
                      << api << "'; stderr: " << last_failure());
        return nullptr;
      }
      p->api_port_ = static_cast<uint16_t>(std::stoi(api.substr(c + 1)));
    }
    return p;
  }

  ~serve_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0)
      ::close(out_);
    ::unlink(log_path_.c_str());
  }

  /// The stderr of the last server that did not come up.
  static std::string& last_failure() {
    static std::string text;
    return text;
  }

  uint16_t port() const { return port_; }
  /// The HTTP API's port (started with --api.port), else 0.
  uint16_t api_port() const { return api_port_; }
  pid_t pid() const { return pid_; }

  /// Sends `sig`. For SIGSTOP, returns once the process has stopped
  /// (stop_and_wait): kill() only queues the signal, and a server running
  /// on the other core answered one more request before it stopped
  /// (remote_faults_e2etest, seen with three tests at a time). A process
  /// that exited instead is reaped: nothing left to stop.
  void signal(int sig) {
    if (sig != SIGSTOP) {
      ::kill(pid_, sig);
      return;
    }
    if (!authstore::stop_and_wait(pid_, 5000)
        && ::waitpid(pid_, nullptr, WNOHANG) == pid_)
      pid_ = -1;
  }

  /// Waits up to `bound` for the process to exit; returns its exit code,
  /// 128+signal when killed, or -1 when it is still running.
  int wait(std::chrono::milliseconds bound) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    for (;;) {
      int status = 0;
      auto r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
  }

  /// What the server wrote to stderr so far.
  std::string log() const {
    return authstore::test::read_whole_file(log_path_);
  }

private:
  serve_process() = default;

  static std::string binary() {
    const char* bin = std::getenv("AUTHSTORE_BINARY");
    REQUIRE(bin != nullptr);
    return bin;
  }

  static int& counter() {
    static int n = 0;
    return n;
  }

  static std::vector<char*> pointers(std::vector<std::string>& xs) {
    std::vector<char*> result;
    for (auto& x : xs)
      result.push_back(x.data());
    result.push_back(nullptr);
    return result;
  }

  std::string read_line(std::chrono::milliseconds bound) {
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd fd{out_, POLLIN, 0};
      if (::poll(&fd, 1, 50) <= 0)
        continue;
      char c;
      if (::read(out_, &c, 1) != 1)
        break;
      if (c == '\n')
        return line;
      line += c;
    }
    return line;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  uint16_t port_ = 0;
  uint16_t api_port_ = 0;
  std::string log_path_;
};

/// How a command that was expected to end ended.
struct run_result {
  /// Exit code; 128+signal when killed; -1 when still running at the bound
  /// (it is then killed).
  int code = -1;
  std::string out;
  std::string err;
};

/// Runs `authstore ARGS...` with the test's environment minus AUTHSTORE_*
/// plus `env`, waits up to `bound` for it to exit, and returns its exit
/// code, stdout and stderr. For commands that must refuse to start.
inline run_result run_to_exit(std::vector<std::string> args,
                              std::vector<std::string> env,
                              std::chrono::milliseconds bound) {
  static int n = 0;
  auto base = "/tmp/authstore-run-e2e-" + std::to_string(::getpid()) + "-"
              + std::to_string(n++);
  auto out_path = base + ".out";
  auto err_path = base + ".err";
  const char* bin = std::getenv("AUTHSTORE_BINARY");
  REQUIRE(bin != nullptr);
  std::vector<std::string> argv_s = {bin};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e)
    if (std::strncmp(*e, "AUTHSTORE_", 10) != 0)
      env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  auto ptrs = [](std::vector<std::string>& xs) {
    std::vector<char*> result;
    for (auto& x : xs)
      result.push_back(x.data());
    result.push_back(nullptr);
    return result;
  };
  auto argv = ptrs(argv_s);
  auto envp = ptrs(env_s);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0)
      ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  run_result result;
  auto deadline = std::chrono::steady_clock::now() + bound;
  for (;;) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      result.code
        = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  auto slurp = [](const std::string& path) {
    auto text = authstore::test::read_whole_file(path);
    ::unlink(path.c_str());
    return text;
  };
  result.out = slurp(out_path);
  result.err = slurp(err_path);
  return result;
}

/// Milliseconds since `start`.
inline int64_t elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now() - start)
    .count();
}

} // namespace remote_test
