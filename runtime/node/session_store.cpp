// session_store.cpp -- see session_store.hpp.
#include "runtime/node/session_store.hpp"

namespace authstore {

outcome<uint64_t> session_store::set_json(const std::string& sid,
                                          std::string_view doc) {
  auto p = parse_patch(doc, limits());
  if (!p)
    return p.error();
  return set(sid, std::move(*p));
}

} // namespace authstore
