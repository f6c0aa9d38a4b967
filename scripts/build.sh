#!/usr/bin/env bash
# build.sh -- configures and builds authstore (Release, see below) in ./build (or $AUTHSTORE_BUILD_DIR)
# with 2 jobs (the machines here have 2 cores and a CAF translation unit takes
# ~400 MB). Build output goes to stderr; the build directory is printed on
# stdout, for callers. Extra arguments are passed to `cmake --build` (e.g. --target authstore).
# AUTHSTORE_SANITIZE=address,undefined builds with sanitizers (separate dir,
# build-sanitize, without the benchmarks; clang 14 at -O0 unless
# AUTHSTORE_SANITIZE_CXX / AUTHSTORE_SANITIZE_CC name other compilers,
# top-level CMakeLists.txt says why). ccache is used when installed.
set -euo pipefail
cd "$(dirname "$0")/.."
# Release (CMake's -O3 -DNDEBUG, no -g; the test code itself at -O1,
# tests/CMakeLists.txt) unless AUTHSTORE_BUILD_TYPE says otherwise: the
# build is most of the README test command's time on 2 cores, and debug
# info costs a CAF translation unit about half again its compile time and
# memory (actors/session_router.cpp, g++ 12: 13.9 s / 452 MB at -O2,
# 20.4 s / 647 MB at -O2 -g, same load). The issue #18 figures are for a
# Release build too. For gdb or perf annotations:
# AUTHSTORE_BUILD_TYPE=RelWithDebInfo (its own AUTHSTORE_BUILD_DIR, so the
# two do not rebuild each other). The sanitizer builds keep line tables
# (their reports name lines).
build_dir=${AUTHSTORE_BUILD_DIR:-build}
build_type=${AUTHSTORE_BUILD_TYPE:-Release}
if [ -n "${AUTHSTORE_SANITIZE:-}" ]; then
  build_type=${AUTHSTORE_BUILD_TYPE:-RelWithDebInfo}
fi
cmake_args=(-DCMAKE_BUILD_TYPE="$build_type")
if [ -n "${AUTHSTORE_SANITIZE:-}" ]; then
  build_dir=${AUTHSTORE_BUILD_DIR:-build-sanitize}
  # The benchmarks are not tests, and a sanitized one measures the sanitizer.
  cmake_args+=(-DAUTHSTORE_SANITIZE="$AUTHSTORE_SANITIZE" -DAUTHSTORE_BUILD_BENCH=OFF
    -DCMAKE_CXX_COMPILER="${AUTHSTORE_SANITIZE_CXX:-clang++-14}"
    -DCMAKE_C_COMPILER="${AUTHSTORE_SANITIZE_CC:-clang-14}")
fi
# A rebuild (CI on the same machine, a second build dir) reuses objects.
if command -v ccache >/dev/null 2>&1; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
cmake -S . -B "$build_dir" "${cmake_args[@]}" >&2
cmake --build "$build_dir" -j "${AUTHSTORE_JOBS:-2}" "$@" >&2
echo "$build_dir"
