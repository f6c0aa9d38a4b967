// private_redis.hpp -- start and stop a private redis-server on a free
// loopback port, by pid. Used by `authstore sim` when no --redis is given and
// by tests that need a Redis they may pause (SIGSTOP) or kill.
//
// The server runs with no persistence (no RDB, no AOF) in a temporary
// directory, bound to 127.0.0.1 only. The destructor stops it (SIGTERM, then
// SIGKILL after 2 s) and removes the directory. CAF-free.
#pragma once

#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "messages/errors.hpp"

namespace authstore {

class private_redis {
public:
  /// Starts `binary` on a free port and waits (up to 5 s) until it answers.
  /// `extra_args` are appended to the command line (e.g. "--requirepass",
  /// "secret"; later options override earlier ones) and kept for restart().
  static outcome<std::unique_ptr<private_redis>>
  start(const std::string& binary = "redis-server",
        std::vector<std::string> extra_args = {});

  ~private_redis();
  private_redis(const private_redis&) = delete;
  private_redis& operator=(const private_redis&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const;
  /// The server's private working directory (removed by the destructor),
  /// e.g. for a unix socket path.
  const std::string& dir() const { return dir_; }

  /// SIGSTOP / SIGCONT / SIGKILL, for fault tests.
  void pause();
  void resume();
  void kill();
  /// Starts it again on the same port after kill().
  outcome<bool> restart();

private:
  private_redis() = default;
  outcome<bool> launch();
  std::string binary_;
  std::vector<std::string> extra_args_;
  std::string dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, close).
outcome<uint16_t> free_loopback_port();

} // namespace authstore
