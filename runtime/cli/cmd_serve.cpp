// cmd_serve.cpp -- `authstore serve`: the engine, published for remote
// clients (runtime/remote/server.hpp), until SIGTERM or SIGINT.
//
// With api.port, also serves the HTTP API (docs/HTTP-API.md,
// runtime/http/endpoint.hpp) with the same secret as a bearer token, and
// prints `authstore: api listening on ADDR:PORT` after the middleman's
// line. Refuses to start without a shared secret, unless --insecure-no-auth
// is given and the bind addresses are loopback (the only place where
// "every local user may read and write every session" can be a deliberate
// choice).
//
// Cold store (cold.uri): made ready here, before the engine starts
// (prepare_cold: schema, privileges, a writable server); a cold store that
// cannot be used is a start error (exit 2), never a node that serves and
// then fails every persist.
//
// TLS (remote.tls-*): the certificate files are checked here, before the
// engine's actor system loads CAF's OpenSSL module, because CAF reads them
// again at every connection and aborts the process on one it cannot load.
// A bad file is a usage error (exit 2) naming its setting; nothing starts.
//
// Signals: SIGTERM and SIGINT are blocked before the engine starts any
// thread, so every thread inherits the mask and the main thread's sigwait
// is their only receiver: no handler runs in signal context and no CAF call
// is made from one. Shutdown is bounded: closing the ports and draining take
// at most twice the forward timeout (the HTTP front door, then the remote
// sessions; every forwarded request has it), and a watchdog ends the
// process if tearing down takes longer than that plus a margin
// (serve.stop-margin-ms, default serve_watchdog_margin; the systemd
// unit's TimeoutStopSec covers both, checked by tests/unit/deploy_test.cpp).
// A write whose persist the exit cut short is not lost: its Lua write left
// it marked dirty in Redis, and the next node's reconciler persists it.
#include <chrono>
#include <csignal>
#include <iostream>
#include <pthread.h>

#include "runtime/cli/cmd_common.hpp"
#include "runtime/engine/engine.hpp"
#include "runtime/http/endpoint.hpp"
#include "runtime/remote/auth.hpp"
#include "runtime/remote/server.hpp"

namespace authstore {

namespace {

/// Applies --port and --bind over the configuration.
int apply_options(const cli_args& args, settings& cfg) {
  for (auto [opt, key] :
       {std::pair{"port", "remote.port"}, std::pair{"bind", "remote.bind"}}) {
    if (!args.has(opt))
      continue;
    auto ok = cfg.set(key, args.get(opt, ""), std::string{"--"} + opt);
    if (!ok)
      return usage_error("serve", ok.error().render());
  }
  return exit_ok;
}

/// Loads the secret named by `path` (or the environment) into `scfg` and
/// checks it against --insecure-no-auth (which the HTTP API, when on, also
/// allows only on a loopback api.bind).
int load_server_secret(const cli_args& args, const std::string& path,
                       const http_front_config& http,
                       remote_server_config& scfg) {
  auto secrets = load_secrets(path);
  if (!secrets) {
    std::cerr << "authstore serve: " << secrets.error().render() << '\n';
    return exit_usage;
  }
  auto* secret = &secrets->current;
  if (args.has("insecure-no-auth")) {
    if (!secret->empty())
      return usage_error("serve", "--insecure-no-auth and a shared secret "
                                  "exclude each other");
    if (!is_loopback_address(scfg.bind))
      return usage_error("serve", "--insecure-no-auth is allowed on a "
                                  "loopback address only, not "
                                    + scfg.bind);
    if (http.api && !is_loopback_address(http.api_bind))
      return usage_error("serve", "--insecure-no-auth is allowed on a "
                                  "loopback address only, not api.bind "
                                    + http.api_bind);
    std::cerr << "authstore serve: WARNING: no authentication "
                 "(--insecure-no-auth): every local process can read and "
                 "write every session\n";
  } else if (secret->empty()) {
    std::cerr << "authstore serve: invalid_config: no shared secret; set "
                 "AUTHSTORE_SECRET or --secret-file PATH (remote.secret-file)."
                 " Refusing to serve without authentication "
                 "(--insecure-no-auth allows it on loopback only)\n";
    return exit_usage;
  }
  scfg.secret = std::move(secrets->current);
  scfg.previous_secret = std::move(secrets->previous);
  return exit_ok;
}

/// With a cold store: checks its configuration, then connects and makes it
/// ready (the schema as cold.migrate allows, privileges, a writable
/// server), on this thread, before the engine starts. Any failure is a
/// start error (exit 2) naming what to fix: nothing has been served yet.
int prepare_cold(const settings& cfg) {
  if (cfg.cold_store_uri().empty())
    return exit_ok;
  auto fail = [](const failure& f) {
    std::cerr << "authstore serve: " << f.render() << '\n';
    return exit_usage;
  };
  if (auto ok = check_cold_config(cfg); !ok)
    return fail(ok.error());
  auto ready = prepare_cold_store(cfg, cold_prepare::as_configured);
  if (!ready)
    return fail(ready.error());
  std::cerr << "authstore serve: cold store " << ready->backend << " at "
            << ready->target << ": " << ready->detail << '\n';
  return exit_ok;
}

} // namespace

int cmd_serve(const cli_args& args) {
  if (!args.positional.empty())
    return usage_error("serve",
                       "unexpected argument '" + args.positional[0] + "'");
  auto cfg = load_settings("serve", args);
  if (!cfg)
    return exit_usage;
  if (int rc = apply_options(args, *cfg); rc != exit_ok)
    return rc;
  auto scfg = remote_server_config::from(*cfg);
  auto http = http_front_config::from(*cfg, true);
  if (int rc = load_server_secret(args, cfg->remote_secret_file(), http, scfg);
      rc != exit_ok)
    return rc;
  http.secret = scfg.secret;
  http.previous_secret = scfg.previous_secret;
  if (auto ok = check_tls_files(scfg.tls); !ok) {
    std::cerr << "authstore serve: " << ok.error().render() << '\n';
    return exit_usage;
  }
  if (int rc = prepare_cold(*cfg); rc != exit_ok)
    return rc;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  auto e = engine::start(*cfg);
  if (!e)
    return report_failure("serve", e.error());
  auto front = http_front::start(**e, http);
  if (!front)
    return report_failure("serve", front.error());
  auto server = remote_server::start(**e, scfg);
  if (!server)
    return report_failure("serve", server.error());
  if (scfg.tls.enabled())
    std::cerr << "authstore serve: TLS on: certificate " << scfg.tls.cert
              << ", clients must present a certificate signed by a CA in "
              << scfg.tls.ca << '\n';
  (*e)->join_cluster((*server)->endpoint());
  std::cout << "authstore: listening on " << (*server)->endpoint() << std::endl;
  if (http.api)
    std::cout << "authstore: api listening on " << (*front)->api_endpoint()
              << std::endl;
  int sig = 0;
  sigwait(&stop_signals, &sig);
  auto bound = scfg.forward_timeout;
  std::cerr << "authstore serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
            << ": port closed, draining sessions (at most " << bound.count()
            << " ms)\n";
  // Two drains, one after the other: the HTTP front door's, the remote
  // sessions'.
  watchdog guard{2 * bound + cfg->serve_stop_margin_ms(), "serve", "shutdown",
                 exit_failed,
                 " (writes not yet persisted stay dirty in Redis for the "
                 "reconciler)"};
  (*front)->stop(bound);
  auto report = (*server)->stop(bound);
  (*server).reset();
  (*front).reset();
  (*e).reset();
  std::cerr << "authstore serve: stopped (" << report.sessions
            << " sessions drained, " << report.killed
            << " killed while busy)\n";
  return exit_ok;
}

} // namespace authstore
