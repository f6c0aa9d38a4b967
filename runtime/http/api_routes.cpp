// api_routes.cpp -- see api_routes.hpp.
#include "runtime/http/api_routes.hpp"

#include <vector>

#include "messages/model.hpp"
#include "messages/session_id.hpp"

namespace authstore {

namespace {

/// One row of the route table: a path pattern ("{sid}" and "{type}" are
/// parameters), a method, the route.
struct route_row {
  std::vector<std::string_view> pattern;
  std::string_view method;
  api_route route;
  bool ops;
};

// clang-format off
const std::vector<route_row> routes = {
  {{"v1", "health"}, "GET", api_route::health, false},
  {{"v1", "sessions", "{sid}", "creds"}, "GET", api_route::get_creds, false},
  {{"v1", "sessions", "{sid}", "keys", "{type}", "read"}, "POST",
   api_route::read_keys, false},
  {{"v1", "sessions", "{sid}", "keys", "{type}"}, "GET",
   api_route::list_keys, false},
  {{"v1", "sessions", "{sid}", "write"}, "POST", api_route::write, false},
  {{"v1", "sessions", "{sid}"}, "DELETE", api_route::delete_session, false},
  {{"v1", "sessions", "{sid}", "exists"}, "GET", api_route::exists, false},
  {{"v1", "sessions", "{sid}", "touch"}, "POST", api_route::touch, false},
  {{"v1", "batch", "creds"}, "POST", api_route::batch_creds, false},
  {{"v1", "sessions", "{sid}", "lease"}, "POST", api_route::take_lease, false},
  {{"v1", "sessions", "{sid}", "lease"}, "DELETE", api_route::release_lease,
   false},
  {{"metrics"}, "GET", api_route::metrics, true},
  {{"healthz"}, "GET", api_route::healthz, true},
  {{"readyz"}, "GET", api_route::readyz, true},
};
// clang-format on

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

/// The segments of an absolute path ("/a/b" -> a, b); nullopt when the
/// path does not start with '/'.
std::optional<std::vector<std::string_view>> segments(std::string_view path) {
  if (path.empty() || path[0] != '/')
    return std::nullopt;
  std::vector<std::string_view> out;
  size_t start = 1;
  for (;;) {
    auto slash = path.find('/', start);
    out.push_back(path.substr(start, slash - start));
    if (slash == std::string_view::npos)
      return out;
    start = slash + 1;
  }
}

bool shape_matches(const route_row& row,
                   const std::vector<std::string_view>& segs) {
  if (row.pattern.size() != segs.size())
    return false;
  for (size_t i = 0; i < segs.size(); ++i)
    if (row.pattern[i][0] != '{' && row.pattern[i] != segs[i])
      return false;
  return true;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Decodes and validates the parameters of a matched row into `m`.
void bind_parameters(const route_row& row,
                     const std::vector<std::string_view>& segs,
                     route_match& m) {
  for (size_t i = 0; i < segs.size() && !m.error; ++i) {
    bool is_sid = row.pattern[i] == "{sid}";
    if (!is_sid && row.pattern[i] != "{type}")
      continue;
    auto decoded = percent_decode(segs[i]);
    auto bad = [&](errc code, const std::string& why) {
      m.error = from_failure(failure{code, why}, false);
    };
    if (!decoded) {
      bad(is_sid ? errc::invalid_session_id : errc::invalid_argument,
          (is_sid ? "session id: " : "key type: ") + decoded.error().detail);
      continue;
    }
    auto ok
      = is_sid ? validate_session_id(*decoded) : validate_key_type(*decoded);
    if (!ok) {
      bad(ok.error().code, ok.error().detail);
      continue;
    }
    (is_sid ? m.sid : m.type) = std::move(*decoded);
  }
}

} // namespace

outcome<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int hi = i + 1 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (hi < 0 || lo < 0)
      return failure{errc::invalid_argument,
                     "bad percent escape at byte " + std::to_string(i)};
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

route_match match_route(std::string_view method, std::string_view target,
                        route_set served) {
  route_match m;
  auto segs = segments(path_of(target));
  std::string allow;
  const route_row* hit = nullptr;
  if (segs)
    for (const auto& row : routes) {
      if ((row.ops ? !served.ops : !served.api) || !shape_matches(row, *segs))
        continue;
      if (row.method == method) {
        hit = &row;
        break;
      }
      allow += (allow.empty() ? "" : ", ") + std::string{row.method};
    }
  if (!hit) {
    if (allow.empty()) {
      m.error = http_error(404, "no_route",
                           "no such route; see "
                           "docs/HTTP-API.md");
    } else {
      m.error
        = http_error(405, "method_not_allowed", "this route takes " + allow);
      m.error->headers.emplace_back("Allow", allow);
    }
    return m;
  }
  m.route = hit->route;
  bind_parameters(*hit, *segs, m);
  return m;
}

bool needs_auth(std::string_view target) {
  auto path = path_of(target);
  return path.rfind("/v1/", 0) == 0 && path != "/v1/health";
}

bool is_write(api_route r) {
  switch (r) {
    case api_route::write:
    case api_route::delete_session:
    case api_route::touch:
    case api_route::take_lease:
    case api_route::release_lease:
      return true;
    default:
      return false;
  }
}

} // namespace authstore
