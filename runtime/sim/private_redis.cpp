// private_redis.cpp -- see private_redis.hpp.
#include "runtime/sim/private_redis.hpp"

#include "runtime/sim/process_state.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace authstore {

outcome<uint16_t> free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {errc::internal, std::string{"socket: "} + std::strerror(errno)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return {errc::internal, std::string{"bind: "} + std::strerror(errno)};
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

namespace {

/// True once something accepts TCP connections on the port.
bool answers(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok
    = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

} // namespace

outcome<std::unique_ptr<private_redis>>
private_redis::start(const std::string& binary,
                     std::vector<std::string> extra_args) {
  std::unique_ptr<private_redis> s{new private_redis};
  s->binary_ = binary;
  s->extra_args_ = std::move(extra_args);
  char tmpl[] = "/tmp/authstore-redis-XXXXXX";
  if (!::mkdtemp(tmpl))
    return failure{errc::internal, "mkdtemp failed"};
  s->dir_ = tmpl;
  // A port can be taken between our probe and redis binding it: retry.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto port = free_loopback_port();
    if (!port)
      return port.error();
    s->port_ = *port;
    if (auto ok = s->launch(); ok)
      return s;
  }
  return failure{errc::internal,
                 "could not start " + binary + " on a free loopback port"};
}

outcome<bool> private_redis::launch() {
  auto port = std::to_string(port_);
  // The argv is built before fork, so the child of a threaded parent does
  // not allocate: it only calls chdir, exec and _exit.
  std::vector<std::string> args{
    binary_,     "--port",           port, "--bind", "127.0.0.1", "--save",
    "",          "--appendonly",     "no", "--dir",  dir_,        "--logfile",
    "redis.log", "--protected-mode", "yes"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0)
    return {errc::internal, "fork failed"};
  if (pid_ == 0) {
    // Child: quiet, loopback only, no persistence, in its own directory.
    // It dies with the thread that started it (a test process ended by a
    // sanitizer report or a failed REQUIRE runs no destructor), and holds
    // none of its parent's standard streams (the server logs to its file):
    // an orphan holding CTest's output pipe kept CTest waiting for the
    // test's full timeout.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int null = ::open("/dev/null", O_RDWR);
    if (null < 0 || ::dup2(null, 0) < 0 || ::dup2(null, 1) < 0
        || ::dup2(null, 2) < 0)
      ::_exit(125);
    if (::chdir(dir_.c_str()) != 0)
      ::_exit(126);
    ::execvp(binary_.c_str(), argv.data());
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{5};
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return {errc::internal, binary_ + " exited at start (port " + port
                                + " taken, or binary missing)"};
    }
    if (answers(port_))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  kill();
  return {errc::internal, binary_ + " did not answer within 5 s"};
}

std::string private_redis::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_) + "/0";
}

void private_redis::pause() {
  if (pid_ > 0)
    stop_and_wait(pid_);
}

void private_redis::resume() {
  if (pid_ > 0)
    ::kill(pid_, SIGCONT);
}

void private_redis::kill() {
  if (pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

outcome<bool> private_redis::restart() {
  kill();
  return launch();
}

private_redis::~private_redis() {
  if (pid_ > 0) {
    ::kill(pid_, SIGCONT); // a paused server cannot act on SIGTERM
    ::kill(pid_, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{2};
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    kill();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

} // namespace authstore
