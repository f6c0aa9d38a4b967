// config_file.cpp -- see config_file.hpp.
#include "runtime/node/config_file.hpp"

namespace authstore {

namespace {

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

} // namespace

std::vector<outcome<config_line>> parse_config_text(std::string_view text,
                                                    const std::string& name) {
  std::vector<outcome<config_line>> lines;
  int no = 1;
  for (size_t start = 0; start < text.size(); ++no) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos)
      end = text.size();
    auto line = text.substr(start, end - start);
    start = end + 1;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty())
      continue;
    auto where = name + ":" + std::to_string(no);
    auto eq = line.find('=');
    if (eq == std::string_view::npos) {
      lines.emplace_back(errc::invalid_config,
                         where + ": expected 'key = value'");
      continue;
    }
    lines.emplace_back(config_line{std::string{trim(line.substr(0, eq))},
                                   std::string{trim(line.substr(eq + 1))},
                                   where});
  }
  return lines;
}

} // namespace authstore
