#!/usr/bin/env bash
# Cross-build the library, its unit tests, benchmarks and tools for the
# other confidential-computing architectures and run the CTest suite under
# qemu-user.
#   scripts/cross.sh [TARGET...]   targets: aarch64 ppc64le s390x riscv64
#                                  (default: all four)
# Each target builds in build-cross-<target> (the next one while this
# one's tests run, at low priority) with
# cmake/toolchains/<target>.cmake (Debian's gcc-<triplet>; CTest runs each
# test as `qemu-<arch> -L /usr/<triplet> test`).  aarch64 and ppc64le, whose
# Linux kernels often use 64 KiB pages, run the suite a second time with
# QEMU_PAGESIZE=65536: qemu-user then reports 64 KiB pages to the program
# (sysconf, getpagesize) and maps memory in 64 KiB units.
#   PAGE64_TARGETS  targets that also run with 64 KiB pages
#                   (default: "aarch64 ppc64le"; qemu-s390x and
#                   qemu-riscv64 ignore the page size option)
#   JOBS            parallel build and test jobs (default: nproc)
#   CCACHE          1: compile through ccache; 0: never; default: when
#                   installed (scripts/ensure-tools.sh)
# Warnings are errors when CI is set (as in CI) or WERROR=1.  As root on
# Debian, missing cross compilers and qemu-user are installed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
. scripts/cross-tools.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${cross_all[@]}")
page64=" ${PAGE64_TARGETS-aarch64 ppc64le} "
jobs=${JOBS:-$(nproc)}
werror=OFF
if [ -n "${CI:-}" ] || [ "${WERROR:-0}" = 1 ]; then werror=ON; fi
cross_ensure_tools 1 "${targets[@]}"
launcher=$(ccache_launcher)

# build_target T: configure and build build-cross-T (output in its
# configure.log and build.log).
build_target() {
  local build=build-cross-$1
  mkdir -p "$build"
  cmake -S . -B "$build" -DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$1.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCCDMA_WERROR=$werror \
        -DCMAKE_C_COMPILER_LAUNCHER="$launcher" >"$build/configure.log" 2>&1 &&
    cmake --build "$build" -j"$jobs" >"$build/build.log" 2>&1
}

# The next target builds while this one's tests run under qemu-user: at
# nice 19, so that it takes only the CPU the tests leave idle (measured on
# 2 cores: the tests take no longer, the pair finishes ~8 s sooner).  In
# its own process group, stopped if this script ends first.
declare -A bg_build
trap 'for p in "${bg_build[@]}"; do kill -- "-$p" 2>/dev/null || true; done' EXIT

summary=()
status=0
for i in "${!targets[@]}"; do
  t=${targets[$i]}
  build=build-cross-$t
  start=$(date +%s)
  rc=0
  if [ -n "${bg_build[$t]:-}" ]; then
    echo "== $t: build ($build, begun beside ${targets[$((i - 1))]}'s tests)"
    wait "${bg_build[$t]}" || rc=$?
    unset "bg_build[$t]"
  else
    echo "== $t: build ($build)"
    build_target "$t" || rc=$?
  fi
  next=${targets[$((i + 1))]:-}
  if [ -n "$next" ]; then
    set -m
    ( renice -n 19 -p "$BASHPID" >/dev/null; build_target "$next" ) &
    bg_build[$next]=$!
    set +m
  fi
  if [ $rc != 0 ]; then
    if [ -s "$build/build.log" ]; then
      grep -E 'error|warning' "$build/build.log" | head -50 || tail -50 "$build/build.log"
    else
      tail -20 "$build/configure.log" 2>/dev/null || true
    fi
    echo "== $t: build failed (logs: $build/configure.log, $build/build.log)"
    summary+=("$t: BUILD FAILED")
    status=1
    continue
  fi
  runs=(4096)
  case $page64 in *" $t "*) runs+=(65536) ;; esac
  for ps in "${runs[@]}"; do
    echo "== $t: tests under qemu-user, $((ps / 1024)) KiB pages"
    log=$build/ctest-$ps.log
    # --output-on-failure shows why a test failed; skipped tests print
    # their reason, collected below from the log CTest keeps.
    if (cd "$build" && QEMU_PAGESIZE=$ps ctest --output-on-failure -j"$jobs") >"$log" 2>&1; then
      ok=pass
    else
      ok=FAIL
      status=1
    fi
    # The summary, and each failed test with what it printed (the list
    # of skipped tests would push both out of the log's tail).
    sed -n '/tests passed/p; /The following tests FAILED/,$p' "$log"
    awk '/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: /{show = $0 !~ /(Passed|Skipped)/}
         /^ *Start +[0-9]+: /{show = 0} show' "$log" | head -200 | sed 's/^/  | /'
    # Why each skipped test skipped (the line it printed).
    grep -ho '^[a-z_0-9]*: [a-zA-Z -]*skipped: .*' "$build/Testing/Temporary/LastTest.log" |
      sed 's/^/  /' || true
    summary+=("$t $((ps / 1024))K: $ok, $(grep -o '[0-9]*% tests passed.*' "$log" || echo 'no summary')")
  done
  echo "== $t: $(( $(date +%s) - start )) s"
done

echo "== cross summary"
printf '%s\n' "${summary[@]}"
exit $status
