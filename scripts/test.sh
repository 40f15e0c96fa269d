#!/usr/bin/env bash
# Build ccdma and run the whole test suite (CTest).  This is the README's
# test command, and .ci/run calls it.
#   BUILD_DIR   build directory (default: build)
#   SANITIZE    address,undefined | thread | empty (default: empty)
#   LABEL       run only tests with this CTest label (e.g. concurrency)
#   CC          compiler (default: cc)
# Warnings are errors when CI is set (as in CI) or WERROR=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
ensure_qsd
build=${BUILD_DIR:-build}
werror=OFF
if [ -n "${CI:-}" ] || [ "${WERROR:-0}" = 1 ]; then werror=ON; fi
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCCDMA_WERROR=$werror -DCCDMA_SANITIZE="${SANITIZE:-}" >/dev/null
cmake --build "$build" -j"$(nproc)"
args=(--output-on-failure -j"$(nproc)")
if [ -n "${LABEL:-}" ]; then args+=(-L "$LABEL"); fi
cd "$build" && ctest "${args[@]}"
