// cold_store.cpp -- the persist rules every backend checks (cold_store.hpp).
#include "messages/cold_store.hpp"

#include <cstdint>

namespace authstore {

outcome<bool> validate_persist(const persist_request& req) {
  bool erase_only = req.erase && req.fields.empty();
  if ((req.version == 0 && !erase_only) || req.version > uint64_t{INT64_MAX})
    return failure{errc::invalid_argument, "persist: version out of range"};
  if (req.erase_version > req.version)
    return failure{errc::invalid_argument,
                   "persist: erase_version above version"};
  if (req.erase && !req.fields.empty() && req.erase_version != 0
      && req.erase_version >= req.version)
    return failure{errc::invalid_argument,
                   "persist: fields at or below the erase version"};
  return true;
}

} // namespace authstore
