// Tests of runtime/node/config_file.hpp: the config-file text parser, as a
// pure function of the text (the loader's tests are in config_test.cpp).
#include "runtime/node/config_file.hpp"

#include <catch2/catch.hpp>

// The file's own namespace: test files are compiled together in unity
// batches (tests/CMakeLists.txt), so file-local names must not meet.
namespace config_file_test {

using namespace authstore;

TEST_CASE("config text: key = value lines, comments and blanks skipped, "
          "numbered from 1",
          "[config]") {
  auto lines = parse_config_text("# head\n\n  a.b = 1  \nc=d=e\r\n"
                                 "x = y # tail\n\t\n",
                                 "f.conf");
  REQUIRE(lines.size() == 3);
  for (const auto& l : lines)
    REQUIRE(l);
  CHECK(lines[0]->key == "a.b");
  CHECK(lines[0]->value == "1");
  CHECK(lines[0]->where == "f.conf:3");
  CHECK(lines[1]->key == "c"); // the first '=' splits
  CHECK(lines[1]->value == "d=e");
  CHECK(lines[1]->where == "f.conf:4");
  CHECK(lines[2]->value == "y"); // '#' starts a comment, even in a value
  CHECK(lines[2]->where == "f.conf:5");
}

TEST_CASE("config text: a line without '=' is a problem in its place, and "
          "parsing goes on",
          "[config]") {
  auto lines = parse_config_text("a = 1\nnot a setting\n= v\nlast", "f");
  REQUIRE(lines.size() == 4);
  CHECK(lines[0]);
  REQUIRE_FALSE(lines[1]);
  CHECK(lines[1].error().code == errc::invalid_config);
  CHECK(lines[1].error().detail == "f:2: expected 'key = value'");
  REQUIRE(lines[2]); // an empty key is the loader's to refuse
  CHECK(lines[2]->key.empty());
  REQUIRE_FALSE(lines[3]); // the last line needs no newline
  CHECK(lines[3].error().detail.find("f:4") != std::string::npos);
}

TEST_CASE("config text: empty text, only newlines, NUL bytes", "[config]") {
  CHECK(parse_config_text("", "f").empty());
  CHECK(parse_config_text("\n\n\n", "f").empty());
  auto nul = parse_config_text(std::string{"k = a\0b\n", 8}, "f");
  REQUIRE(nul.size() == 1);
  REQUIRE(nul[0]);
  CHECK(nul[0]->value == std::string("a\0b", 3));
}

} // namespace config_file_test
