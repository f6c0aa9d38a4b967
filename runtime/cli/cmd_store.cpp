// cmd_store.cpp -- `authstore get|set|del`: the operator CLI over the
// in-process API (engine.hpp) or, with --connect HOST:PORT, over a remote
// node (remote_client.hpp). Values print in the v7 Buffer form, which is
// how they are stored.
//
// Exit: the answer is printed (and flushed) first; then the engine stops
// within cli.exit-timeout-ms, or the process exits anyway with the answer's
// status (a watchdog): a persist to a hung cold store or a call to a hung
// Redis must not keep a finished command alive. A write whose persist was
// cut short stays marked dirty in Redis by its Lua write, so a serving
// node's reconciler persists it later (tests/e2e/outbox_crash_e2etest.cpp).
#include <charconv>
#include <iostream>

#include "messages/codec.hpp"
#include "messages/session_id.hpp"
#include "runtime/cli/cmd_common.hpp"

namespace authstore {

namespace {

/// A store opened for one command, and how long it may take to stop.
struct opened_store {
  std::unique_ptr<session_store> store;
  std::chrono::milliseconds exit_bound{2000};
  explicit operator bool() const { return store != nullptr; }
  session_store* operator->() const { return store.get(); }
};

/// Stops `s` (the engine or the remote client) within its exit bound, then
/// returns `rc`; past the bound the process exits with `rc` at once.
int finish(const char* cmd, opened_store s, int rc) {
  std::cout.flush();
  std::cerr.flush();
  watchdog guard{s.exit_bound, cmd, "stopping the engine after the answer", rc,
                 " (a cold-store or Redis call still in flight; a write not "
                 "yet persisted stays dirty in Redis for the reconciler)"};
  s.store.reset();
  return rc;
}

/// Opens the store as open_store does, with the exit bound of
/// cli.exit-timeout-ms (the settings loaded again: they loaded once already).
opened_store open_bounded(const char* cmd, const cli_args& args, int& rc) {
  opened_store result;
  result.store = open_store(cmd, args, rc);
  if (result.store)
    if (auto cfg = load_settings(cmd, args))
      result.exit_bound = cfg->cli_exit_timeout_ms();
  return result;
}

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

/// `get` on an open store; its exit status.
int run_get(session_store* e, const cli_args& args, bool keys) {
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

/// `set` on an open store; its exit status.
int run_set(session_store* e, const cli_args& args, uint64_t expected) {
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

/// `del` on an open store; its exit status.
int run_del(session_store* e, const cli_args& args) {
  auto existed = e->del(args.positional[0]);
  if (!existed)
    return report_failure("del", existed.error());
  if (!*existed)
    return not_found();
  std::cout << "{\"existed\":true}\n";
  return exit_ok;
}

} // namespace

int cmd_get(const cli_args& args) {
  bool keys = args.has("keys");
  if (int rc = check_sid("get", args, keys); rc != exit_ok)
    return rc;
  if (keys && args.positional.size() < 3)
    return usage_error("get", "--keys needs a TYPE and at least one ID");
  int rc = exit_ok;
  auto e = open_bounded("get", args, rc);
  if (!e)
    return rc;
  rc = run_get(e.store.get(), args, keys);
  return finish("get", std::move(e), rc);
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
  auto e = open_bounded("set", args, rc);
  if (!e)
    return rc;
  rc = run_set(e.store.get(), args, expected);
  return finish("set", std::move(e), rc);
}

int cmd_del(const cli_args& args) {
  if (int rc = check_sid("del", args); rc != exit_ok)
    return rc;
  int rc = exit_ok;
  auto e = open_bounded("del", args, rc);
  if (!e)
    return rc;
  rc = run_del(e.store.get(), args);
  return finish("del", std::move(e), rc);
}

} // namespace authstore
