// main.cpp -- the `authstore` executable: everything is in the CLI table.
#include "runtime/cli/cli.hpp"

int main(int argc, char** argv) {
  return authstore::run_cli(argc, argv);
}
