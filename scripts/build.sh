#!/usr/bin/env bash
# build.sh -- configures and builds authstore in ./build (or $AUTHSTORE_BUILD_DIR)
# with 2 jobs (the machines here have 2 cores and a CAF translation unit takes
# ~400 MB). Build output goes to stderr; the build directory is printed on
# stdout, for callers. Extra arguments are passed to `cmake --build` (e.g. --target authstore).
# AUTHSTORE_SANITIZE=address,undefined builds with sanitizers (separate dir).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${AUTHSTORE_BUILD_DIR:-build}
cmake_args=(-DCMAKE_BUILD_TYPE=${AUTHSTORE_BUILD_TYPE:-RelWithDebInfo})
if [ -n "${AUTHSTORE_SANITIZE:-}" ]; then
  build_dir=${AUTHSTORE_BUILD_DIR:-build-sanitize}
  cmake_args+=(-DAUTHSTORE_SANITIZE="$AUTHSTORE_SANITIZE")
fi
cmake -S . -B "$build_dir" "${cmake_args[@]}" >&2
cmake --build "$build_dir" -j "${AUTHSTORE_JOBS:-2}" "$@" >&2
echo "$build_dir"
