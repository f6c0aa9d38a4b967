#!/usr/bin/env bash
# install-deps.sh -- installs the Debian 12 packages authstore needs to build,
# test and simulate. Idempotent: packages already present are not touched and
# apt is not even consulted when nothing is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  g++ cmake make pkg-config git           # toolchain
  libcaf-dev                               # CAF 0.17.6 core + io (+ openssl)
  libhiredis-dev                           # Redis client
  libmongoc-dev                            # MongoDB C driver
  nlohmann-json3-dev                       # JSON
  prometheus-cpp-dev                       # metrics
  libboost-dev libssl-dev                  # HTTP API: Boost.Beast (headers), TLS
  catch2                                   # tests (v2)
  redis-server redis-tools                 # hot store for tests and sim
  python3 python3-mockupdb                 # scripted MongoDB wire server
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
