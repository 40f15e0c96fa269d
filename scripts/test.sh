#!/usr/bin/env bash
# Build ccdma and run the whole test suite (CTest).  This is the README's
# test command, and .ci/run calls it.
#   BUILD_DIR   build directory (default: build)
#   SANITIZE    address,undefined | thread | empty (default: empty)
#   LABEL       build and run only the tests with this CTest label (e.g.
#               concurrency)
#   STEPS       "build", "test" or "build test" (default): .ci/run builds
#               one configuration while another one's tests run
#   CCACHE      1: compile through ccache; 0: never; default: when installed
#   CC          compiler (default: cc)
# Warnings are errors when CI is set (as in CI) or WERROR=1.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
build=${BUILD_DIR:-build}
steps=" ${STEPS:-build test} "
jobs=$(nproc)

if [[ $steps == *" build "* ]]; then
  ensure_qsd
  werror=OFF
  if [ -n "${CI:-}" ] || [ "${WERROR:-0}" = 1 ]; then werror=ON; fi
  launcher=$(ccache_launcher)
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCCDMA_WERROR=$werror -DCCDMA_SANITIZE="${SANITIZE:-}" \
        -DCMAKE_C_COMPILER_LAUNCHER="$launcher" >/dev/null
  if [ -n "${LABEL:-}" ]; then
    # Only the programs the selected tests run (the TSan job runs the
    # concurrency tests): the paths into the build tree on their command
    # lines, as CMake wrote them into the CTestTestfile.cmake files.  One
    # missed would show as CTest's "Could not find executable".
    abs=$(cd "$build" && pwd)
    mapfile -t targets < <(find "$build" -name CTestTestfile.cmake -exec cat {} + |
      awk -v label="$LABEL" '
        /^add_test\(/ { n = $0; sub(/^add_test\(/, "", n); sub(/ .*/, "", n); cmd[n] = $0 }
        /^set_tests_properties\(/ {
          n = $0; sub(/^set_tests_properties\(/, "", n); sub(/ .*/, "", n)
          if (match($0, / LABELS "[^"]*"/)) {
            l = ";" substr($0, RSTART + 9, RLENGTH - 10) ";"
            if (index(l, ";" label ";")) sel[n] = 1
          }
        }
        END { for (n in sel) print cmd[n] }' |
      grep -o "$abs/[^\"]*" | sed 's|.*/||' | sort -u)
    if [ ${#targets[@]} -eq 0 ]; then
      echo "no test has the label '$LABEL'" >&2
      exit 1
    fi
    cmake --build "$build" -j"$jobs" --target "${targets[@]}"
  else
    cmake --build "$build" -j"$jobs"
  fi
fi

if [[ $steps == *" test "* ]]; then
  args=(--output-on-failure -j"$jobs")
  if [ -n "${LABEL:-}" ]; then args+=(-L "$LABEL"); fi
  cd "$build" && ctest "${args[@]}"
fi
