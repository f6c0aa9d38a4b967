// cmd_store.cpp -- `authstore get|set|del`: the operator CLI over the
// in-process API (engine.hpp) or, with --connect HOST:PORT, over a remote
// node (remote_client.hpp). Values print in the v7 Buffer form, which is
// how they are stored.
#include <charconv>
#include <iostream>

#include "messages/codec.hpp"
#include "messages/session_id.hpp"
#include "runtime/cli/cmd_common.hpp"

namespace authstore {

namespace {

/// Checks for exactly one session id argument (plus `extra` allowed).
int check_sid(const char* cmd, const cli_args& args, bool extra = false) {
  if (args.positional.empty())
    return usage_error(cmd, "missing SID");
  if (!extra && args.positional.size() > 1)
    return usage_error(cmd, "unexpected argument '" + args.positional[1] + "'");
  if (auto ok = validate_session_id(args.positional[0]); !ok)
    return report_failure(cmd, ok.error());
  return exit_ok;
}

int not_found() {
  std::cerr << "not found\n";
  return exit_not_found;
}

} // namespace

int cmd_get(const cli_args& args) {
  bool keys = args.has("keys");
  if (int rc = check_sid("get", args, keys); rc != exit_ok)
    return rc;
  if (keys && args.positional.size() < 3)
    return usage_error("get", "--keys needs a TYPE and at least one ID");
  int rc = exit_ok;
  auto e = open_store("get", args, rc);
  if (!e)
    return rc;
  const auto& sid = args.positional[0];
  if (keys) {
    const auto& type = args.positional[1];
    std::vector<std::string> ids(args.positional.begin() + 2,
                                 args.positional.end());
    auto r = e->get_keys(sid, type, ids);
    if (!r)
      return report_failure("get", r.error());
    std::string out = "{" + json(type).dump() + ":{";
    bool first = true;
    for (const auto& [id, value] : r->values) {
      out += (first ? "" : ",") + json(id).dump() + ":" + value;
      first = false;
    }
    std::cout << out << "}}\n";
    return exit_ok;
  }
  auto r = e->get_creds(sid);
  if (!r)
    return report_failure("get", r.error());
  if (!r->found)
    return not_found();
  std::cout << "{\"creds\":" << r->creds_json << ",\"version\":" << r->version
            << "}\n";
  return exit_ok;
}

int cmd_set(const cli_args& args) {
  if (int rc = check_sid("set", args); rc != exit_ok)
    return rc;
  uint64_t expected = any_version;
  if (args.has("expect-version")) {
    auto text = args.get("expect-version", "");
    auto [p, ec]
      = std::from_chars(text.data(), text.data() + text.size(), expected);
    if (ec != std::errc{} || p != text.data() + text.size())
      return usage_error("set", "--expect-version needs a whole number");
  }
  int rc = exit_ok;
  auto e = open_store("set", args, rc);
  if (!e)
    return rc;
  auto p = parse_patch(read_stdin(), e->limits());
  if (!p)
    return report_failure("set", p.error());
  p->expected_version = expected;
  auto v = e->set(args.positional[0], std::move(*p));
  if (!v)
    return report_failure("set", v.error());
  std::cout << "{\"version\":" << *v << "}\n";
  return exit_ok;
}

int cmd_del(const cli_args& args) {
  if (int rc = check_sid("del", args); rc != exit_ok)
    return rc;
  int rc = exit_ok;
  auto e = open_store("del", args, rc);
  if (!e)
    return rc;
  auto existed = e->del(args.positional[0]);
  if (!existed)
    return report_failure("del", existed.error());
  if (!*existed)
    return not_found();
  std::cout << "{\"existed\":true}\n";
  return exit_ok;
}

} // namespace authstore
