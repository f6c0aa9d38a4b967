// limits.hpp -- the size and shape limits a value and a patch are checked
// against before anything reaches a backend.
//
// Why one header: the codec (per value), the patch parser (the JSON text of
// a whole patch) and validate_patch (a patch already in field form, e.g.
// from a remote client) check the same three settings -- codec.max-value-
// bytes, codec.max-patch-bytes, codec.max-writes (runtime/node/config.cpp)
// -- so they share one type instead of two structs copied field by field.
// CAF-free and JSON-free: model.hpp includes it.
#pragma once

#include <cstddef>

namespace authstore {

/// Bounds on one value (one creds field or one key), all inclusive.
struct codec_limits {
  /// Bytes of JSON text of one value (default 1 MiB).
  size_t max_value_bytes = 1u << 20;
  /// Nesting depth of objects/arrays; a scalar has depth 0, `{}` depth 1.
  size_t max_depth = 32;
  /// Total object members plus array elements in one value.
  size_t max_fields = 100000;
};

/// Limits on a whole patch, on top of the per-value limits.
struct patch_limits {
  codec_limits value;
  /// Bytes of a whole patch (default 16 MiB): its JSON text (parse_patch),
  /// or its field names plus values (validate_patch).
  size_t max_patch_bytes = 16u << 20;
  /// Number of field writes in one patch.
  size_t max_writes = 10000;
};

} // namespace authstore
