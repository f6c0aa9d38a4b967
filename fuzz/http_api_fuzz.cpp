// http_api_fuzz.cpp -- the HTTP API's request path after Beast has parsed a
// request (runtime/http/): api_service's on_head (bearer check, routing,
// refusals before the body) and on_request (answers without the engine,
// hand-off to the bridge), the route table and percent decoding
// (api_routes.cpp), the body parsers the bridge actor applies
// (api_bodies.cpp) and the error replies (api_errors.cpp).
//
// Input: one flag byte, then method, target and Authorization header
// separated by '\n', then the body (the rest, may hold '\n'). The flag byte
// picks the routes served (API, ops, both), whether the header is replaced
// by the right one, and whether the secret is empty (serve's
// --insecure-no-auth).
//
// Properties beyond no crash / no sanitizer report / no leak:
// - needs_auth is "a /v1/ path but /v1/health", decided on the raw path;
//   authorized() equals an oracle written from the documented rule
//   ("Bearer" in any case, spaces, the secret exactly); an unauthorized
//   request for a /v1/ path gets 401 whatever its route.
// - on_head refuses exactly what match_route refuses (same status); every
//   reply is JSON {"error": token, "message", "retryable",
//   "may_have_applied"} for a status >= 400, 405 carries Allow, 401
//   WWW-Authenticate.
// - a matched route's session id passes validate_session_id and its key
//   type validate_key_type; percent-encoding every byte of them and
//   matching again gives the same route and values (decoded exactly once).
// - percent_decode: decoding a fully encoded string gives it back; a
//   string without '%' decodes to itself.
// - on_request answers health/501 itself (and only those) and hands every
//   other route to the bridge (a stub here, below) with the matched values;
//   the body parser of that route (as api_bridge.cpp's table) either
//   refuses with a 4xx/501 JSON error or yields a patch that passes
//   validate_patch, with every value a fixed point of normalize, or at most
//   max_writes strings.
//
// Not reached: Beast's HTTP/1.1 parser, header and body size limits,
// keep-alive and pipelining (http_connection.cpp, Beast + Asio: covered by
// tests/e2e/http_api_e2etest.cpp and http_tls_e2etest.cpp), and the bridge
// actors' engine requests (CAF). The route-to-parser table below repeats
// the three rows of api_bridge.cpp's run() that parse a body; it is in a
// CAF file the fuzz build cannot compile.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "messages/codec.hpp"
#include "messages/model.hpp"
#include "messages/session_id.hpp"
#include "messages/utf8.hpp"
#include "runtime/http/api_bodies.hpp"
#include "runtime/http/api_bridge.hpp"
#include "runtime/http/api_errors.hpp"
#include "runtime/http/api_routes.hpp"
#include "runtime/http/api_service.hpp"

using namespace authstore;

// -- the bridge and the responder, stubbed --------------------------------
// api_bridge.cpp is CAF and http_server.cpp is Beast; these definitions
// replace them in the fuzz build: the bridge records what on_request hands
// over, the responder the reply it is given. The nested impl may call
// api_bridge's private constructor.
namespace {
std::vector<api_call> submitted;
std::optional<http_reply> answered;
} // namespace
struct api_bridge::impl {
  static std::shared_ptr<api_bridge> make() {
    return std::shared_ptr<api_bridge>(
      new api_bridge(std::make_unique<impl>()));
  }
};
api_bridge::api_bridge(std::unique_ptr<impl> x) : impl_(std::move(x)) {}
api_bridge::~api_bridge() = default;
void api_bridge::submit(api_call call, std::function<void(http_reply)>) {
  submitted.push_back(std::move(call));
}
void api_bridge::stop() {}
struct http_responder::state {};
void http_responder::operator()(http_reply r) const {
  FUZZ_CHECK(!answered); // one answer per request
  answered = std::move(r);
}

namespace {

const std::string the_secret = "fuzz-secret-0123456789abcdef";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

/// The documented rule (api_service.hpp): "Bearer" in any case, one or more
/// spaces, then exactly the secret.
bool oracle_authorized(std::string_view h, std::string_view secret) {
  if (secret.empty())
    return true;
  if (h.size() < 7 || !iequals(h.substr(0, 6), "bearer") || h[6] != ' ')
    return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ')
    h.remove_prefix(1);
  return h == secret;
}

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string encode_all(std::string_view s) {
  static const char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

void check_reply(const http_reply& r) {
  FUZZ_CHECK(r.status >= 200 && r.status <= 599);
  auto doc = json::parse(r.body, nullptr, false);
  FUZZ_CHECK(!doc.is_discarded());
  if (r.status < 400)
    return;
  FUZZ_CHECK(doc.is_object());
  FUZZ_CHECK(doc.contains("error") && doc["error"].is_string());
  FUZZ_CHECK(doc.contains("message") && doc["message"].is_string());
  FUZZ_CHECK(doc.contains("retryable") && doc["retryable"].is_boolean());
  FUZZ_CHECK(doc.contains("may_have_applied")
             && doc["may_have_applied"].is_boolean());
  auto has_header = [&](std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (k == name)
        return true;
    return false;
  };
  if (r.status == 405)
    FUZZ_CHECK(has_header("Allow"));
  if (r.status == 401)
    FUZZ_CHECK(has_header("WWW-Authenticate"));
}

bool takes_sid(api_route r) {
  return r != api_route::health && r != api_route::batch_creds
         && r != api_route::metrics && r != api_route::healthz
         && r != api_route::readyz && r != api_route::unknown;
}

bool takes_type(api_route r) {
  return r == api_route::read_keys || r == api_route::list_keys;
}

void check_match(std::string_view method, std::string_view target,
                 route_set routes, const route_match& m) {
  if (m.error) {
    FUZZ_CHECK(m.error->status >= 400 && m.error->status <= 499);
    check_reply(to_reply(*m.error));
    return;
  }
  FUZZ_CHECK(m.route != api_route::unknown);
  FUZZ_CHECK(takes_sid(m.route) == !m.sid.empty());
  if (takes_sid(m.route))
    FUZZ_CHECK(validate_session_id(m.sid));
  FUZZ_CHECK(takes_type(m.route) == !m.type.empty());
  if (takes_type(m.route))
    FUZZ_CHECK(validate_key_type(m.type));
  // Decoded exactly once: the values, fully percent-encoded into the same
  // shape of path, match again to themselves.
  if (!m.sid.empty()) {
    auto path = std::string{path_of(target)};
    std::vector<std::string> segs;
    for (size_t start = 1;;) {
      auto slash = path.find('/', start);
      segs.push_back(path.substr(start, slash - start));
      if (slash == std::string::npos)
        break;
      start = slash + 1;
    }
    FUZZ_CHECK(segs.size() >= 3);
    segs[2] = encode_all(m.sid);
    if (takes_type(m.route)) {
      FUZZ_CHECK(segs.size() >= 5);
      segs[4] = encode_all(m.type);
    }
    std::string again;
    for (const auto& s : segs)
      again += "/" + s;
    auto m2 = match_route(method, again, routes);
    FUZZ_CHECK(!m2.error);
    FUZZ_CHECK(m2.route == m.route);
    FUZZ_CHECK(m2.sid == m.sid);
    FUZZ_CHECK(m2.type == m.type);
  }
}

void check_percent(std::string_view s) {
  auto d = percent_decode(encode_all(s));
  FUZZ_CHECK(d && *d == s);
  auto plain = percent_decode(s);
  if (s.find('%') == std::string_view::npos)
    FUZZ_CHECK(plain && *plain == s);
  if (plain)
    FUZZ_CHECK(plain->size() <= s.size());
}

/// The value of `parsed`, or null after checking its error reply.
template <class T>
const T* accepted(const api_parsed<T>& parsed) {
  if (auto* e = std::get_if<api_error>(&parsed)) {
    FUZZ_CHECK((e->status >= 400 && e->status <= 499) || e->status == 501);
    check_reply(to_reply(*e));
    return nullptr;
  }
  return &std::get<T>(parsed);
}

/// What the bridge actor does with a call's body (api_bridge.cpp, run()).
void check_body(const api_call& c, const patch_limits& limits) {
  switch (c.route) {
    case api_route::write: {
      auto parsed = parse_write_body(c.body, limits);
      if (auto* p = accepted(parsed)) {
        patch_limits bounds = limits;
        bounds.max_patch_bytes = SIZE_MAX; // normalizing may lengthen
        FUZZ_CHECK(validate_patch(*p, bounds));
        for (const auto& w : p->writes) {
          if (w.erase)
            continue;
          auto again = normalize_text(w.value, limits.value);
          FUZZ_CHECK(again && *again == w.value);
        }
      }
      return;
    }
    case api_route::read_keys:
    case api_route::batch_creds: {
      auto member = c.route == api_route::read_keys ? "ids" : "sessions";
      auto parsed = parse_string_list(c.body, member, limits);
      if (auto* ids = accepted(parsed))
        FUZZ_CHECK(ids->size() <= limits.max_writes);
      return;
    }
    default:
      return;
  }
}

std::string_view take_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto line = rest.substr(0, nl);
  rest
    = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  return line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  uint8_t flags = data[0];
  std::string_view rest{reinterpret_cast<const char*>(data) + 1, size - 1};
  http_head head;
  head.method = std::string{take_line(rest)};
  head.target = std::string{take_line(rest)};
  head.authorization = std::string{take_line(rest)};
  std::string body{rest};
  head.has_body = !body.empty();

  route_set routes;
  switch (flags & 3) {
    case 0:
      routes = {true, false};
      break;
    case 1:
      routes = {false, true};
      break;
    default:
      routes = {true, true};
      break;
  }
  std::string secret = (flags & 4) ? "" : the_secret;
  if (flags & 8)
    head.authorization = "Bearer " + the_secret;

  check_percent(head.target);
  auto path = path_of(head.target);
  bool v1 = path.rfind("/v1/", 0) == 0 && path != "/v1/health";
  FUZZ_CHECK(needs_auth(head.target) == v1);

  auto m = match_route(head.method, head.target, routes);
  check_match(head.method, head.target, routes, m);

  api_counters counters;
  auto bridge = api_bridge::impl::make();
  submitted.clear();
  api_service service{api_service_config{secret, routes}, bridge, counters};
  bool ok_auth = oracle_authorized(head.authorization, secret);
  FUZZ_CHECK(service.authorized(head.authorization) == ok_auth);

  auto refused = service.on_head(head);
  if (routes.api && v1 && !ok_auth) {
    FUZZ_CHECK(refused && refused->status == 401);
  } else if (m.error) {
    FUZZ_CHECK(refused && refused->status == m.error->status);
  } else {
    FUZZ_CHECK(!refused);
  }
  if (refused) {
    check_reply(*refused);
    // Counted once, under its status and route: for a 401 the route only
    // when the request fully matched one; for a routing refusal the row
    // that matched (a bad parameter), unknown when none did.
    uint64_t total = 0;
    for (const auto& by_status : counters.requests)
      for (const auto& n : by_status)
        total += n.load();
    FUZZ_CHECK(total == 1);
    auto route
      = refused->status == 401 && m.error ? api_route::unknown : m.route;
    FUZZ_CHECK(
      counters
        .requests[static_cast<size_t>(route)][api_status_slot(refused->status)]
        .load()
      == 1);
    return 0;
  }

  answered.reset();
  service.on_request({head.method, head.target, body},
                     http_responder{std::make_shared<http_responder::state>()});
  const auto& calls = submitted;
  // Only health is answered by the service itself; list_keys and the lease
  // routes go to the engine like every other route since #14 phase 2.
  bool direct = m.route == api_route::health;
  FUZZ_CHECK(answered.has_value() == direct);
  FUZZ_CHECK(calls.size() == (direct ? 0u : 1u));
  if (answered) {
    check_reply(*answered);
    FUZZ_CHECK(answered->status == (m.route == api_route::health ? 200 : 501));
    return 0;
  }
  const auto& c = calls.front();
  FUZZ_CHECK(c.route == m.route && c.sid == m.sid && c.type == m.type
             && c.body == body);
  check_body(c, patch_limits{});
  patch_limits tight;
  tight.max_writes = 8;
  tight.max_patch_bytes = 4096;
  tight.value.max_value_bytes = 256;
  tight.value.max_depth = 4;
  tight.value.max_fields = 64;
  check_body(c, tight);
  return 0;
}
