#!/usr/bin/env bash
# build.sh -- configures and builds authstore in ./build (or $AUTHSTORE_BUILD_DIR)
# with 2 jobs (the machines here have 2 cores and a CAF translation unit takes
# ~400 MB). Build output goes to stderr; the build directory is printed on
# stdout, for callers. Extra arguments are passed to `cmake --build` (e.g. --target authstore).
# AUTHSTORE_SANITIZE=address,undefined builds with sanitizers (separate dir,
# build-sanitize, without the benchmarks). ccache is used when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${AUTHSTORE_BUILD_DIR:-build}
cmake_args=(-DCMAKE_BUILD_TYPE=${AUTHSTORE_BUILD_TYPE:-RelWithDebInfo})
if [ -n "${AUTHSTORE_SANITIZE:-}" ]; then
  build_dir=${AUTHSTORE_BUILD_DIR:-build-sanitize}
  # The benchmarks are not tests, and a sanitized one measures the sanitizer.
  cmake_args+=(-DAUTHSTORE_SANITIZE="$AUTHSTORE_SANITIZE" -DAUTHSTORE_BUILD_BENCH=OFF)
fi
# A rebuild (CI on the same machine, a second build dir) reuses objects.
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" "${cmake_args[@]}" >&2
cmake --build "$build_dir" -j "${AUTHSTORE_JOBS:-2}" "$@" >&2
echo "$build_dir"
