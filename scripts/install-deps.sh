#!/usr/bin/env bash
# install-deps.sh -- installs the Debian 12 packages authstore needs to build,
# test and simulate. Idempotent: packages already present are not touched and
# apt is not even consulted when nothing is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ cmake make pkg-config git           # toolchain
  clang-14 libclang-rt-14-dev              # fuzz build: libFuzzer, ASan and UBSan
                                           # runtimes (fuzz/README.md)
  ccache                                   # reused objects across build dirs/runs
  libcaf-dev                               # CAF 0.17.6 core + io (+ openssl)
  libhiredis-dev                           # Redis client
  libjemalloc-dev                          # allocator linked into authstore (issue #18)
  libmongoc-dev                            # MongoDB C driver
  libpq-dev                                # PostgreSQL C client (libpq)
  nlohmann-json3-dev                       # JSON
  zlib1g-dev                               # gzip dumps (authstore dump --gzip)
  prometheus-cpp-dev                       # metrics
  libboost-dev libssl-dev                  # HTTP API: Boost.Beast (headers), TLS
  catch2                                   # tests (v2)
  redis-server redis-tools                 # hot store for tests and sim
  python3 python3-mockupdb                 # scripted MongoDB wire server
  postgresql-15 postgresql-client-15       # real PostgreSQL for the postgres tests
                                           # (pgbench for bench/pg); the tests start
                                           # private clusters, never the system one
  dpkg-dev systemd adduser                 # the .deb: dpkg-shlibdeps, systemd-analyze
                                           # verify (systemd need not run), postinst
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# Node.js and npm for clients/node (the @authstore/baileys package and its
# tests): checked by command, not by package, because a NodeSource `nodejs`
# package ships npm itself and conflicts with Debian's `npm`. Debian's own
# packages are installed only when a command is missing.
for cmd in node npm; do
  if ! command -v "$cmd" >/dev/null 2>&1; then
    case "$cmd" in node) missing+=(nodejs) ;; npm) missing+=(npm) ;; esac
  fi
done

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present, node and npm found"
else
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian 12's nodejs is 18; the Node client needs 20 (baileys 7 and undici
# refuse older). Not fatal: the C++ build and tests do not need Node, and the
# node-labelled CTest entries then report themselves skipped with this reason.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "install-deps: WARNING: node $(node --version 2>/dev/null || echo missing) is older than 20: the clients/node tests will be skipped (install Node.js >= 20, e.g. from NodeSource)"
else
  echo "install-deps: node $(node --version), npm $(npm --version)"
fi
