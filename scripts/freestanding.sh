#!/usr/bin/env bash
# The freestanding core check: the layers above the platform layer (pool,
# dma, busdma, ...), the platform layer's portable files and the shim in
# src/platform/freestanding/ compile with -ffreestanding -nostdinc against
# only the compiler's own <stddef.h>, <stdint.h>, <stdbool.h>, <stdatomic.h>
# and <stdarg.h> (cmake/freestanding.cmake), warnings as errors, for
#   scripts/freestanding.sh [TARGET...]   x86_64 (the host gcc) and aarch64
#                                         (default: both)
# in build-free-<target>.  Then the objects' undefined symbols must all be
# platform hooks of src/platform/os.h (ccdma_os_*, ccdma_mutex_*,
# ccdma_cond_*, ccdma_thread_*) or the compiler's own runtime: what an
# embedder supplies, and nothing else.  The example port
# (examples/port_bare.c, target ccdma_example_port) compiles the same way,
# and with it the objects need only its firmware's fw_* services and the
# compiler's runtime.  Nothing is linked.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
. scripts/cross-tools.sh

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(x86_64 aarch64)
cross=()
for t in "${targets[@]}"; do
  [ "$t" = x86_64 ] || cross+=("$t")
done
[ ${#cross[@]} -eq 0 ] || cross_ensure_tools 0 "${cross[@]}"
launcher=$(ccache_launcher)

# Names the embedder supplies (os.h), and the compiler runtime: the GOT of
# position-independent code, TLS for -fPIC, aarch64's out-of-line atomics.
hooks='^(ccdma_os_[a-z0-9_]+|ccdma_(mutex|cond|thread)_[a-z]+)$'
runtime='^(_GLOBAL_OFFSET_TABLE_|__tls_get_addr|__aarch64_[a-z0-9_]+)$'

status=0
for t in "${targets[@]}"; do
  build=build-free-$t
  args=()
  if [ "$t" = x86_64 ]; then
    [ "$(uname -m)" = x86_64 ] || { echo "x86_64: needs an x86-64 host gcc" >&2; exit 2; }
  else
    cross_triplet "$t" >/dev/null
    args+=(-DCMAKE_TOOLCHAIN_FILE="$PWD/cmake/toolchains/$t.cmake")
  fi
  echo "== freestanding core: $t ($build)"
  cmake -S . -B "$build" "${args[@]}" -DCCDMA_FREESTANDING_CHECK=ON -DCCDMA_WERROR=ON \
        -DCCDMA_BUILD_TESTS=OFF -DCCDMA_BUILD_BENCH=OFF -DCCDMA_BUILD_TOOLS=OFF \
        -DCMAKE_C_COMPILER_LAUNCHER="$launcher" >/dev/null
  if ! cmake --build "$build" --target ccdma_freestanding ccdma_example_port -j"${JOBS:-$(nproc)}" \
       >"$build/build.log" 2>&1; then
    grep -E 'error|warning' "$build/build.log" | head -40 || tail -40 "$build/build.log"
    echo "== $t: FAILED to compile freestanding (log: $build/build.log)"
    status=1
    continue
  fi
  nm=$(sed -n 's/^CMAKE_NM:FILEPATH=//p' "$build/CMakeCache.txt")
  mapfile -t objs < <(find "$build/src/CMakeFiles/ccdma_freestanding.dir" -name '*.o' | sort)
  defined=$("$nm" --defined-only "${objs[@]}" | awk 'NF == 3 { print $3 }' | sort -u)
  needed=$("$nm" -u "${objs[@]}" | awk 'NF == 2 { print $2 }' | sort -u |
           comm -23 - <(printf '%s\n' "$defined"))
  bad=$(printf '%s\n' "$needed" | grep -Ev "$hooks|$runtime" | grep . || true)
  nhooks=$(printf '%s\n' "$needed" | grep -cE "$hooks" || true)
  echo "  ${#objs[@]} objects; they need $nhooks platform hooks:"
  printf '%s\n' "$needed" | grep -E "$hooks" | tr '\n' ' ' | fmt -w 72 | sed 's/^/    /'
  if [ -n "$bad" ]; then
    echo "== $t: FAILED: the core calls what neither os.h nor the compiler provides:"
    printf '%s\n' "$bad" | sed 's/^/    /'
    status=1
  else
    echo "== $t: ok"
  fi
  # The example port (examples/port_bare.c) supplies every hook: with it,
  # the core needs only the firmware's fw_* services and the runtime.
  port=$(find "$build/src/CMakeFiles/ccdma_example_port.dir" -name '*.o')
  pdefined=$("$nm" --defined-only "${objs[@]}" $port | awk 'NF == 3 { print $3 }' | sort -u)
  pbad=$("$nm" -u "${objs[@]}" $port | awk 'NF == 2 { print $2 }' | sort -u |
         comm -23 - <(printf '%s\n' "$pdefined") | grep -Ev "^fw_[a-z0-9_]+$|$runtime" | grep . || true)
  if [ -n "$pbad" ]; then
    echo "== $t: FAILED: the core with examples/port_bare.c still needs:"
    printf '%s\n' "$pbad" | sed 's/^/    /'
    status=1
  else
    echo "== $t: examples/port_bare.c supplies every hook: ok"
  fi
done
exit $status
