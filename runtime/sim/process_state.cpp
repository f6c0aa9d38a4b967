// process_state.cpp -- see process_state.hpp.
#include "runtime/sim/process_state.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

namespace authstore {

char process_state(pid_t pid, pid_t* parent) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
  std::string stat{std::istreambuf_iterator<char>{in}, {}};
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses.
  auto close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size())
    return 0;
  if (parent)
    *parent = static_cast<pid_t>(std::atol(stat.c_str() + close + 4));
  return stat[close + 2];
}

bool stop_and_wait(pid_t pid, int timeout_ms) {
  if (pid <= 0 || ::kill(pid, SIGSTOP) != 0)
    return false;
  auto until
    = std::chrono::steady_clock::now() + std::chrono::milliseconds{timeout_ms};
  for (;;) {
    char s = process_state(pid);
    if (s == 'T' || s == 't')
      return true;
    if (s == 0 || s == 'Z' || s == 'X'
        || std::chrono::steady_clock::now() >= until)
      return false;
    std::this_thread::sleep_for(std::chrono::microseconds{200});
  }
}

} // namespace authstore
