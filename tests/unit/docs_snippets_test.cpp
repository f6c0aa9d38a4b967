// docs_snippets_test.cpp -- the usage example quoted in the README and in
// runtime/engine/engine.hpp is exactly the code of examples/in_process.cpp
// between its markers, which CTest compiles and runs (example_in_process).
// So documentation cannot drift from the API (nlohmann/json's habit: docs
// quote code that compiles).
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace docs_snippets_test {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  REQUIRE(in);
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// The example's lines between the markers, with the function body's
/// two-space indentation removed.
std::vector<std::string> example_lines() {
  auto text = read_file("examples/in_process.cpp");
  const std::string start = "// --(example-start)--\n";
  const std::string end = "  // --(example-end)--";
  auto a = text.find(start);
  auto b = text.find(end);
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  std::vector<std::string> lines;
  size_t pos = a + start.size();
  while (pos < b) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl - pos);
    lines.push_back(line.compare(0, 2, "  ") == 0 ? line.substr(2) : line);
    pos = nl + 1;
  }
  REQUIRE(lines.size() > 10);
  return lines;
}

/// The example as it must appear in `doc`, every line prefixed.
std::string quoted(const std::vector<std::string>& lines,
                   const std::string& prefix, bool trim_empty) {
  std::string result;
  for (const auto& l : lines) {
    auto line = prefix + l;
    if (trim_empty && l.empty())
      while (!line.empty() && line.back() == ' ')
        line.pop_back();
    result += line + '\n';
  }
  return result;
}

} // namespace

TEST_CASE("the README quotes the compiled in-process example exactly",
          "[docs]") {
  auto readme = read_file("README.md");
  auto expected = quoted(example_lines(), "    ", true);
  CHECK(readme.find(expected) != std::string::npos);
}

TEST_CASE("engine.hpp quotes the compiled in-process example exactly",
          "[docs]") {
  auto header = read_file("runtime/engine/engine.hpp");
  auto expected = quoted(example_lines(), "//   ", true);
  CHECK(header.find(expected) != std::string::npos);
}

} // namespace docs_snippets_test
