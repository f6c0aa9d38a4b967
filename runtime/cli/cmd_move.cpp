// cmd_move.cpp -- `authstore import|export|dump|restore`: moving sessions in
// and out (issue #16). The work is in move.hpp; here are the options, the
// store (the engine here, or a remote node with --connect), the lines for
// people (each failure as "authstore <cmd>: <session>: <token>: <detail>",
// then a summary) and the exit code: 0 when nothing failed, 1 when anything
// did, 2 for usage, 3 for export of a session that does not exist.
#include <iostream>

#include "messages/session_id.hpp"
#include "runtime/cli/cmd_common.hpp"
#include "runtime/cli/move.hpp"

namespace authstore {

namespace {

/// --replace / --if-absent, or exit_usage when both are given.
int policy_of(const char* cmd, const cli_args& args, existing_policy& out) {
  if (args.has("replace") && args.has("if-absent"))
    return usage_error(cmd, "--replace and --if-absent exclude each other");
  out = args.has("replace")     ? existing_policy::replace
        : args.has("if-absent") ? existing_policy::skip
                                : existing_policy::refuse;
  return exit_ok;
}

int no_positional(const char* cmd, const cli_args& args) {
  if (!args.positional.empty())
    return usage_error(cmd, "unexpected argument '" + args.positional[0] + "'");
  return exit_ok;
}

/// Prints failures (and notes) as they happen, above the progress line.
move_report printer(const char* cmd, progress_meter& meter) {
  return [cmd, &meter](const std::string& sid, const failure& why, bool) {
    meter.finish();
    std::cerr << "authstore " << cmd << ": " << (sid.empty() ? "" : sid + ": ")
              << why.render() << '\n';
  };
}

/// The summary line and the exit code of a command that moved sessions.
int finish(const char* cmd, progress_meter& meter, const move_tally& t,
           const char* done_word, const char* unchanged_word) {
  meter.finish();
  std::cerr << "authstore " << cmd << ": "
            << meter.summary(t, done_word, unchanged_word) << '\n';
  return t.failed > 0 ? exit_failed : exit_ok;
}

} // namespace

int cmd_import(const cli_args& args) {
  const char* cmd = "import";
  if (int rc = no_positional(cmd, args); rc != exit_ok)
    return rc;
  existing_policy policy;
  if (int rc = policy_of(cmd, args, policy); rc != exit_ok)
    return rc;
  bool one = args.has("folder");
  if (one == args.has("folders"))
    return usage_error(cmd, "give either --folder DIR --session SID or "
                            "--folders PARENT");
  if (one && !args.has("session"))
    return usage_error(cmd, "--folder needs --session SID");
  if (!one && args.has("session"))
    return usage_error(cmd, "--folders names each session after its "
                            "folder; --session goes with --folder");
  auto sid = args.get("session", "");
  if (one)
    if (auto ok = validate_session_id(sid); !ok)
      return usage_error(cmd, ok.error().render());
  int rc = exit_ok;
  auto store = open_store(cmd, args, rc);
  if (!store)
    return rc;
  progress_meter meter{cmd, args.has("progress")};
  auto report = printer(cmd, meter);
  auto t = one ? import_folder(*store, args.get("folder", ""), sid, policy,
                               meter, report)
               : import_folders(*store, args.get("folders", ""), policy, meter,
                                report);
  return finish(cmd, meter, t, "imported", "unchanged (exist, --if-absent)");
}

int cmd_restore(const cli_args& args) {
  const char* cmd = "restore";
  if (int rc = no_positional(cmd, args); rc != exit_ok)
    return rc;
  existing_policy policy;
  if (int rc = policy_of(cmd, args, policy); rc != exit_ok)
    return rc;
  auto in = line_reader::open(args.get("in", "-"));
  if (!in)
    return report_failure(cmd, in.error());
  int rc = exit_ok;
  auto store = open_store(cmd, args, rc);
  if (!store)
    return rc;
  progress_meter meter{cmd, args.has("progress")};
  auto t = restore_sessions(*store, **in, policy, meter, printer(cmd, meter));
  return finish(cmd, meter, t, "restored", "unchanged (exist, --if-absent)");
}

int cmd_dump(const cli_args& args) {
  const char* cmd = "dump";
  if (int rc = no_positional(cmd, args); rc != exit_ok)
    return rc;
  std::unique_ptr<line_reader> ids;
  if (args.has("sessions")) {
    auto r = line_reader::open(args.get("sessions", ""));
    if (!r)
      return report_failure(cmd, r.error());
    ids = std::move(*r);
  }
  auto path = args.get("out", "-");
  if (path == "-" && args.get("sessions", "") == "-")
    return usage_error(cmd, "--sessions - reads stdin; name an --out FILE");
  int rc = exit_ok;
  auto store = open_store(cmd, args, rc);
  if (!store)
    return rc;
  auto out = line_writer::open(path, args.has("gzip"));
  if (!out)
    return report_failure(cmd, out.error());
  progress_meter meter{cmd, args.has("progress")};
  auto t = dump_sessions(*store, **out, ids.get(), meter, printer(cmd, meter));
  if (auto ok = (*out)->commit(); !ok) {
    ++t.failed;
    printer(cmd, meter)("", ok.error(), true);
  }
  return finish(cmd, meter, t, "dumped", "unchanged");
}

int cmd_export(const cli_args& args) {
  const char* cmd = "export";
  if (int rc = no_positional(cmd, args); rc != exit_ok)
    return rc;
  if (!args.has("session") || !args.has("folder"))
    return usage_error(cmd, "give --session SID and --folder DIR");
  auto sid = args.get("session", "");
  if (auto ok = validate_session_id(sid); !ok)
    return usage_error(cmd, ok.error().render());
  int rc = exit_ok;
  auto store = open_store(cmd, args, rc);
  if (!store)
    return rc;
  bool found = false;
  auto dir = args.get("folder", "");
  auto keys = export_session(*store, sid, dir, args.has("force"), found);
  if (!keys)
    return report_failure(cmd, keys.error());
  if (!found) {
    std::cerr << "not found\n";
    return exit_not_found;
  }
  std::cerr << "authstore export: " << sid << ": creds.json and " << *keys
            << " key files in " << dir << '\n';
  return exit_ok;
}

} // namespace authstore
