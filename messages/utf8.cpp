// utf8.cpp -- see utf8.hpp. The ranges are RFC 3629's table (section 4).
#include "messages/utf8.hpp"

namespace authstore {

bool is_utf8(std::string_view text) {
  size_t i = 0;
  auto at = [&](size_t j) {
    return static_cast<unsigned char>(text[j]);
  };
  auto in = [](unsigned char c, unsigned char lo, unsigned char hi) {
    return c >= lo && c <= hi;
  };
  while (i < text.size()) {
    unsigned char c = at(i);
    size_t n = 0;                       // continuation bytes
    unsigned char lo = 0x80, hi = 0xBF; // range of the first of them
    if (c < 0x80) {
      ++i;
      continue;
    } else if (in(c, 0xC2, 0xDF)) {
      n = 1;
    } else if (c == 0xE0) {
      n = 2, lo = 0xA0; // no overlong 3-byte forms
    } else if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) {
      n = 2;
    } else if (c == 0xED) {
      n = 2, hi = 0x9F; // no surrogates
    } else if (c == 0xF0) {
      n = 3, lo = 0x90; // no overlong 4-byte forms
    } else if (in(c, 0xF1, 0xF3)) {
      n = 3;
    } else if (c == 0xF4) {
      n = 3, hi = 0x8F; // nothing above U+10FFFF
    } else {
      return false; // 0x80..0xC1 and 0xF5..0xFF never start a character
    }
    if (text.size() - i <= n || !in(at(i + 1), lo, hi))
      return false;
    for (size_t k = 2; k <= n; ++k)
      if (!in(at(i + k), 0x80, 0xBF))
        return false;
    i += n + 1;
  }
  return true;
}

} // namespace authstore
