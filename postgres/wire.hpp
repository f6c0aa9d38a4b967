// wire.hpp -- parameters and result fields in PostgreSQL's binary format.
//
// Why binary: a value must come back byte for byte as it went in (the
// Baileys JSON text, stored as bytea). In binary format a bytea parameter is
// its bytes, with no escaping, no hex round trip and no encoding
// conversion; an int8 is eight big-endian bytes, not a decimal string to
// parse. Multi-row writes pass whole columns as one array parameter
// (text[], bytea[]), so one prepared statement upserts any number of rows
// in one Bind message. Every statement asks for binary results.
//
// The formats (PostgreSQL's send/recv functions): int8 and int4 big-endian;
// bool one byte; text and bytea their bytes; a one-dimensional array
//   int32 ndim=1, int32 has_nulls, uint32 element oid, int32 length,
//   int32 lower bound=1, then per element int32 byte length (-1: NULL) and
//   the bytes; an empty array is ndim=0, has_nulls=0, the element oid.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

struct pg_result;

namespace authstore {

/// The type oids the store binds and reads (pg_type.oid, fixed since 7.x).
namespace pg_oid {
constexpr uint32_t boolean = 16;
constexpr uint32_t bytea = 17;
constexpr uint32_t int8 = 20;
constexpr uint32_t int4 = 23;
constexpr uint32_t text = 25;
constexpr uint32_t bytea_array = 1001;
constexpr uint32_t text_array = 1009;
} // namespace pg_oid

/// One bound parameter in binary format.
struct pg_param {
  uint32_t type = 0;
  std::string bytes;
  bool null = false;
};

/// An int8 parameter.
pg_param int8_param(int64_t x);

/// A text parameter (the bytes as they are; the connection's
/// client_encoding is UTF8).
pg_param text_param(std::string_view x);

/// A text[] parameter.
pg_param text_array_param(const std::vector<std::string_view>& xs);

/// A bytea[] parameter; a null pointer is a NULL element.
pg_param bytea_array_param(const std::vector<const std::string*>& xs);

/// Whether field (row, col) of a binary-format result is NULL.
bool is_null(const pg_result* r, int row, int col);

/// Reads an int8 field; false when NULL or not eight bytes.
bool read_int8(const pg_result* r, int row, int col, int64_t& out);

/// Reads an int4 field; false when NULL or not four bytes.
bool read_int4(const pg_result* r, int row, int col, int32_t& out);

/// Reads a bool field; false when NULL or not one byte.
bool read_bool(const pg_result* r, int row, int col, bool& out);

/// Reads a text or bytea field as its bytes; false when NULL.
bool read_bytes(const pg_result* r, int row, int col, std::string& out);

} // namespace authstore
