#!/usr/bin/env bash
# CPU per I/O of this tree against an earlier one (issue 14: "direct mode
# must not get slower than the previous release").
#   scripts/release-cpu.sh [options] [REV]
# REV defaults to 60e6f91, main as it landed at the last accepted stop
# (the project has no release tags yet).  Builds REV's ccdma-blk in a
# temporary worktree and this tree's ccdma-blk and ccdma-devsim, starts
# one ccdma-devsim (RAM disk), and runs the two ccdma-blk programs against
# it in turn, --rounds times each, the order swapped every round:
#   --rw RW --bs BS --iodepth QD --runtime SECONDS, in each mode.
# Every run's driver CPU (user + system of the ccdma-blk process, from the
# shell's `time`) and the device process's CPU (from /proc, clock ticks)
# are divided by the I/Os the run reported.  Prints each run, then per
# mode the median driver CPU per I/O of both trees and new / old.
# Options: --rounds N (5), --seconds S (2), --rw randread|randwrite|...
# (randread), --bs SIZE (4k), --iodepth N
# (32), --modes "direct confidential", --old-args "...", --new-args "..."
# (more ccdma-blk options for one tree, e.g. --new-args "--slot-size 0"
# to see what a new option costs), --old-cmake "...", --new-cmake "..."
# (more cmake options for one tree's build, e.g. HEAD --new-cmake
# -DCCDMA_NT_COPY=ON).  JOBS: build jobs (default nproc).
# A benchmark, not a test: run it on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=5 secs=2 rw=randread bs=4k qd=32 modes="direct confidential" old_args= new_args= old_cmake= new_cmake= rev=60e6f91
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2 ;;
    --seconds) secs=$2 ;;
    --rw) rw=$2 ;;
    --bs) bs=$2 ;;
    --iodepth) qd=$2 ;;
    --modes) modes=$2 ;;
    --old-args) old_args=$2 ;;
    --new-args) new_args=$2 ;;
    --old-cmake) old_cmake=$2 ;;
    --new-cmake) new_cmake=$2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "release-cpu: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) rev=$1; shift; continue ;;
  esac
  [ $# -ge 2 ] || { echo "release-cpu: $1 needs a value" >&2; exit 2; }
  shift 2
done
jobs=${JOBS:-$(nproc)}
here=$PWD
tmp=$(mktemp -d /tmp/ccdma-release-cpu.XXXXXX)
old_src=$tmp/src
devsim_pid=
cleanup() {
  [ -n "$devsim_pid" ] && kill "$devsim_pid" 2>/dev/null && wait "$devsim_pid" 2>/dev/null
  git -C "$here" worktree remove --force "$old_src" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

old_sha=$(git rev-parse --short "$rev^{commit}")
new_sha=$(git rev-parse --short HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || new_sha="$new_sha+changes"
echo "== building $old_sha (old) and $new_sha (new)"
git worktree add --detach -q "$old_src" "$old_sha"
build() { # SRC DIR [CMAKE-OPTION...]
  local src=$1 dir=$2
  shift 2
  cmake -S "$src" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.log" 2>&1 &&
    cmake --build "$dir" -j"$jobs" --target ccdma-blk ccdma-devsim >>"$dir.log" 2>&1 ||
    { tail -20 "$dir.log"; echo "release-cpu: the build of $src failed ($dir.log)" >&2; exit 1; }
}
mkdir -p "$tmp/old" "$tmp/new"
# shellcheck disable=SC2086 # the cmake options split into words
build "$old_src" "$tmp/old/build" $old_cmake
# shellcheck disable=SC2086
build "$here" "$tmp/new/build" $new_cmake

sock=$tmp/blk.sock
"$tmp/new/build/tools/ccdma-devsim" --socket "$sock" --size 256m 2>"$tmp/devsim.log" &
devsim_pid=$!
for _ in $(seq 1 200); do [ -S "$sock" ] && break; sleep 0.05; done
[ -S "$sock" ] || { cat "$tmp/devsim.log"; echo "release-cpu: ccdma-devsim did not start" >&2; exit 1; }

ticks() { # utime + stime of a process, in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
hz=$(getconf CLK_TCK)

# run TREE MODE: prints "cpu_ns_per_io dev_ns_per_io ios"
run() {
  local blk=$tmp/$1/build/tools/ccdma-blk out t0 t1 cpu ios extra
  if [ "$1" = old ]; then extra=$old_args; else extra=$new_args; fi
  t0=$(ticks "$devsim_pid")
  out=$( { TIMEFORMAT='%3U %3S'; time "$blk" --socket "$sock" --mode "$2" --rw "$rw" \
             --bs "$bs" --iodepth "$qd" --runtime "$secs" --json --quiet $extra \
             >"$tmp/run.json" 2>"$tmp/run.err"; } 2>&1 ) ||
    { cat "$tmp/run.err"; echo "release-cpu: $1 ccdma-blk failed" >&2; exit 1; }
  t1=$(ticks "$devsim_pid")
  ios=$(grep -o '"\(reads\|writes\)": *[0-9]*' "$tmp/run.json" | grep -o '[0-9]*$' |
        awk '{ n += $1 } END { print n + 0 }')
  [ "${ios:-0}" -gt 0 ] || { cat "$tmp/run.json"; echo "release-cpu: no I/O reported" >&2; exit 1; }
  cpu=$(awk '{ print $1 + $2 }' <<<"$out")
  awk -v c="$cpu" -v d=$((t1 - t0)) -v hz="$hz" -v n="$ios" \
    'BEGIN { printf "%.0f %.0f %d\n", c * 1e9 / n, d * 1e9 / hz / n, n }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "== $rounds rounds, $rw bs $bs iodepth $qd, $secs s per run, against ccdma-devsim (RAM)"
printf '%-13s %-5s %-7s %12s %12s %10s\n' mode round tree driver_ns/io device_ns/io ios
for mode in $modes; do
  : >"$tmp/old.$mode"; : >"$tmp/new.$mode"
  for r in $(seq 1 "$rounds"); do
    order="old new"; [ $((r % 2)) = 0 ] && order="new old"
    for tree in $order; do
      read -r cpu dev ios < <(run "$tree" "$mode")
      echo "$cpu" >>"$tmp/$tree.$mode"
      printf '%-13s %-5s %-7s %12s %12s %10s\n' "$mode" "$r" "$tree" "$cpu" "$dev" "$ios"
    done
  done
done
echo "== median driver CPU per I/O (ns): old $old_sha, new $new_sha"
for mode in $modes; do
  o=$(median <"$tmp/old.$mode"); n=$(median <"$tmp/new.$mode")
  awk -v m="$mode" -v o="$o" -v n="$n" 'BEGIN { printf "%-13s old %8.0f  new %8.0f  new/old %.3f\n", m, o, n, n / o }'
done
