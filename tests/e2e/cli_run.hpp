// cli_run.hpp -- running the real `authstore` binary (AUTHSTORE_BINARY) the
// way an operator does, for the e2e tests of its commands: its exit code,
// and what it printed. Header-only; needs Catch2 included first.
#pragma once

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace authstore::test {

struct run_result {
  int code = -1;
  std::string out;    // stdout and stderr, merged
  std::string stdout; // stdout alone (libraries may warn on stderr)
};

/// Runs `<env> authstore <args>` through the shell with `input` on stdin;
/// `env` is a list of VAR=value words put before the binary (through env).
inline run_result run(const std::string& args, const std::string& input = "",
                      const std::string& env = "") {
  const char* bin = std::getenv("AUTHSTORE_BINARY");
  REQUIRE(bin != nullptr);
  // Per process: several checkouts' suites share /tmp on this machine.
  auto tag = std::to_string(::getpid());
  std::string in_file = "/tmp/authstore-cli-e2e-stdin-" + tag;
  {
    FILE* f = std::fopen(in_file.c_str(), "w");
    std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
  }
  std::string err_file = "/tmp/authstore-cli-e2e-stderr-" + tag;
  std::string cmd = (env.empty() ? "" : "env " + env + " ") + std::string{bin}
                    + " " + args + " <" + in_file + " 2>" + err_file;
  run_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
    r.stdout.append(buf.data(), n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::string err;
  if (FILE* f = std::fopen(err_file.c_str(), "r")) {
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0)
      err.append(buf.data(), n);
    std::fclose(f);
  }
  r.out = r.stdout + err;
  ::unlink(in_file.c_str());
  ::unlink(err_file.c_str());
  return r;
}

} // namespace authstore::test
