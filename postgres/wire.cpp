// wire.cpp -- the binary formats described in wire.hpp.
#include "postgres/wire.hpp"

#include <libpq-fe.h>

namespace authstore {

namespace {

void put_u32(std::string& out, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((x >> shift) & 0xFF));
}

void put_i32(std::string& out, int32_t x) {
  put_u32(out, static_cast<uint32_t>(x));
}

uint64_t get_be(const char* p, int n) {
  uint64_t x = 0;
  for (int i = 0; i < n; ++i)
    x = (x << 8) | static_cast<uint8_t>(p[i]);
  return x;
}

// The array header for `n` elements of type `element` (see wire.hpp).
std::string array_header(uint32_t element, size_t n, bool has_nulls) {
  std::string out;
  if (n == 0) {
    put_i32(out, 0);
    put_i32(out, 0);
    put_u32(out, element);
    return out;
  }
  put_i32(out, 1);
  put_i32(out, has_nulls ? 1 : 0);
  put_u32(out, element);
  put_i32(out, static_cast<int32_t>(n));
  put_i32(out, 1);
  return out;
}

void put_element(std::string& out, std::string_view x) {
  put_i32(out, static_cast<int32_t>(x.size()));
  out.append(x.data(), x.size());
}

// The field's bytes when it has exactly `n` (n < 0: any length).
const char* field(const pg_result* r, int row, int col, int n) {
  if (!r || row >= PQntuples(r) || col >= PQnfields(r)
      || PQgetisnull(r, row, col))
    return nullptr;
  if (n >= 0 && PQgetlength(r, row, col) != n)
    return nullptr;
  return PQgetvalue(r, row, col);
}

} // namespace

pg_param int8_param(int64_t x) {
  pg_param p{pg_oid::int8, {}, false};
  auto u = static_cast<uint64_t>(x);
  for (int shift = 56; shift >= 0; shift -= 8)
    p.bytes.push_back(static_cast<char>((u >> shift) & 0xFF));
  return p;
}

pg_param text_param(std::string_view x) {
  return {pg_oid::text, std::string(x), false};
}

pg_param text_array_param(const std::vector<std::string_view>& xs) {
  pg_param p{pg_oid::text_array, array_header(pg_oid::text, xs.size(), false),
             false};
  for (auto x : xs)
    put_element(p.bytes, x);
  return p;
}

pg_param bytea_array_param(const std::vector<const std::string*>& xs) {
  bool has_nulls = false;
  for (const auto* x : xs)
    has_nulls = has_nulls || x == nullptr;
  pg_param p{pg_oid::bytea_array,
             array_header(pg_oid::bytea, xs.size(), has_nulls), false};
  for (const auto* x : xs) {
    if (x)
      put_element(p.bytes, *x);
    else
      put_i32(p.bytes, -1);
  }
  return p;
}

bool is_null(const pg_result* r, int row, int col) {
  return !r || row >= PQntuples(r) || col >= PQnfields(r)
         || PQgetisnull(r, row, col);
}

bool read_int8(const pg_result* r, int row, int col, int64_t& out) {
  const char* p = field(r, row, col, 8);
  if (!p)
    return false;
  out = static_cast<int64_t>(get_be(p, 8));
  return true;
}

bool read_int4(const pg_result* r, int row, int col, int32_t& out) {
  const char* p = field(r, row, col, 4);
  if (!p)
    return false;
  out = static_cast<int32_t>(static_cast<uint32_t>(get_be(p, 4)));
  return true;
}

bool read_bool(const pg_result* r, int row, int col, bool& out) {
  const char* p = field(r, row, col, 1);
  if (!p)
    return false;
  out = *p != 0;
  return true;
}

bool read_bytes(const pg_result* r, int row, int col, std::string& out) {
  const char* p = field(r, row, col, -1);
  if (!p)
    return false;
  out.assign(p, static_cast<size_t>(PQgetlength(r, row, col)));
  return true;
}

} // namespace authstore
