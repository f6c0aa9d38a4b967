// config_file.hpp -- the text of a config file, read into key = value lines.
//
// Why a file of its own: the config file is input a person (or a deploy
// tool) writes, so its parser faces arbitrary text. Kept apart from the
// loader (config.cpp, which opens the file and applies the lines), it is a
// pure function of the text, which the unit tests and the fuzz target
// (fuzz/config_fuzz.cpp) call directly. CAF-free.
//
// The format: one `key = value` per line; `#` starts a comment that runs to
// the end of the line (so a value cannot contain `#`); blank lines and
// comment lines are skipped; spaces, tabs and a trailing CR around keys and
// values are dropped. The first `=` separates key from value, so a value
// may contain `=`. Whether a key exists and its value is valid is the
// loader's business, not this parser's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "messages/errors.hpp"

namespace authstore {

/// One `key = value` line of a config file.
struct config_line {
  std::string key;
  std::string value;
  /// "<name>:<line number>", for messages naming where a setting came from.
  std::string where;
};

/// Reads `text`, the contents of the config file called `name`, into its
/// lines in file order. A non-blank line without `=` is a failure in its
/// place (invalid_config, naming `name:line`), and parsing goes on, so
/// every problem of a file is reported at once and in order.
std::vector<outcome<config_line>> parse_config_text(std::string_view text,
                                                    const std::string& name);

} // namespace authstore
