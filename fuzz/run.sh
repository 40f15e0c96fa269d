#!/usr/bin/env bash
# Build the fuzz targets with clang, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, and run each for SECONDS (default 60) on a
# copy of its seed corpus and regression inputs (docs/fuzzing.md):
#   fuzz/run.sh [SECONDS [TARGET...]]      BUILD_DIR (default build-fuzz)
# Fails (exit 1) when a target finds a crash or an invariant violation:
# the input is printed in base64 (save it under fuzz/regress/TARGET/) and
# kept with the log in the work directory printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/ensure-tools.sh
secs=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_vhost_reply fuzz_used_ring fuzz_config)
build=${BUILD_DIR:-build-fuzz}

if ! command -v clang >/dev/null 2>&1; then
  echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
fi
probe=$(mktemp -d)
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)
{ (void)d; (void)n; return 0; }' > "$probe/p.c"
if ! clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>"$probe/err"; then
  echo "fuzz: clang cannot link libFuzzer with ASan+UBSan (the runtime is" \
       "missing: apt-get install libclang-rt-14-dev):" >&2
  cat "$probe/err" >&2
  rm -rf "$probe"
  exit 1
fi
rm -rf "$probe"

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCCDMA_FUZZ=ON \
      -DCCDMA_SANITIZE=address,undefined -DCCDMA_WERROR=ON \
      -DCCDMA_BUILD_TESTS=OFF -DCCDMA_BUILD_BENCH=OFF -DCCDMA_BUILD_TOOLS=OFF \
      -DCMAKE_C_COMPILER_LAUNCHER="$(ccache_launcher)" >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null

work=$(mktemp -d /tmp/ccdma-fuzz-XXXXXX)
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t/corpus"
  cp fuzz/corpus/"$t"/* "$work/$t/corpus/"
  if [ -d fuzz/regress/"$t" ]; then
    cp fuzz/regress/"$t"/* "$work/$t/corpus/"
  fi
  rc=0
  "$build/fuzz/$t" -max_total_time="$secs" -print_final_stats=1 \
    -artifact_prefix="$work/$t/" "$work/$t/corpus" > "$work/$t/log" 2>&1 || rc=$?
  # The last status line: executions, coverage (cov: edges, ft: features),
  # corpus size.
  last=$(grep -E '^#[0-9]+' "$work/$t/log" | tail -n 1 || true)
  if [ $rc != 0 ]; then
    echo "== $t: FAILED ($rc) after: $last"
    grep -E 'INVARIANT|ERROR|SUMMARY|Test unit|Base64' "$work/$t/log" | head -n 20
    status=1
  else
    echo "== $t: ${secs} s, no finding: $last"
  fi
done
if [ $status = 0 ]; then
  rm -rf "$work"
else
  echo "fuzz: logs and inputs in $work"
fi
exit $status
