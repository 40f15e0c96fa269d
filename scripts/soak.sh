#!/usr/bin/env bash
# Soak: long verified random read/write runs of ccdma-blk against both
# back-ends (ccdma-devsim and qemu-storage-daemon, each on a file-backed
# disk), with I/O sizes from 512 B to 4 MiB, a small bounce pool that grows
# and shrinks (--pool-max 32m, regions given back after 100 ms idle), the
# device process killed and restarted every sixth of the run (every other
# ccdma-devsim misbehaving: used-ring violations), ccdma-blk reconnecting
# (--reconnect --reconnect-hostile), while
# the driver and the device process are sampled every few seconds: the
# driver's private memory (RssAnon), its open fds, the pool's regions
# (memfd mappings) and shared bytes, and the device process's fds.  It
# fails when a run fails or verifies a wrong byte, or when a sample series
# grows and does not come back (see check_series below).
#
#   scripts/soak.sh DURATION [--out DIR] [--interval SECONDS]
#   scripts/soak.sh --check SAMPLES.tsv     # only the growth check
#
# DURATION is seconds, or a number with an m or h suffix; it is split
# evenly between the back-ends.  Environment: BUILD_DIR (default build; the
# tools are built there when missing), SOAK_BACKENDS (default
# "devsim qsd"), QSD (default qemu-storage-daemon), SOAK_IODEPTH (16),
# SOAK_RESTART_EVERY (seconds between restarts; default a sixth of each
# back-end's share, at least 5).
# Output in --out DIR (default a new /tmp/ccdma-soak.*): samples.tsv, one
# JSON summary per run, the logs, and plots (PNG) when gnuplot is there.
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "soak: $*" >&2; exit 2; }

# ---- the growth check ---------------------------------------------------
# A series "grows and does not come back" when the smallest value of its
# last quarter is above the largest of its first quarter by more than the
# slack: a leak makes even the quiet points of the end higher than the
# busy points of the start.  Judged: the driver's private memory
# (rss_anon_kib, slack 8 MiB), its fds other than the pool's regions
# (fds - regions, slack 0) and the device process's fds (slack 0).  The
# pool itself (regions, shared_kib) comes and goes with the load by
# design: every sample must be within its cap (SOAK_POOL_MAX, in KiB), and
# after the run it must come back (checked from the run's --linger
# report).  Columns of samples.tsv: run t_s rss_anon_kib fds regions
# shared_kib dev_fds.  A run with fewer than 8 samples is not judged.
check_series() {
	awk -F'\t' -v cap="${SOAK_POOL_MAX_KIB:-32768}" '
	NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
	{
		r = $col["run"]; k = ++n[r]
		v[r, k, 1] = $col["rss_anon_kib"]
		v[r, k, 2] = $col["fds"] - $col["regions"]
		v[r, k, 3] = $col["dev_fds"]
		if ($col["shared_kib"] > cap) {
			printf "soak: run %s at %s s: the pool held %d KiB, above its " \
			       "cap of %d KiB\n", r, $col["t_s"], $col["shared_kib"], cap
			bad = 1
		}
	}
	END {
		split("rss_anon_kib fds_besides_regions dev_fds", name, " ")
		slack[1] = 8192; slack[2] = 0; slack[3] = 0
		for (r in n) {
			if (n[r] < 8) {
				printf "soak: run %s: %d samples, too few to judge\n", r, n[r]
				continue
			}
			q = int(n[r] / 4)
			for (m = 1; m <= 3; m++) {
				first = -1; last = -1
				for (i = 1; i <= q; i++)
					if (v[r, i, m] + 0 > first) first = v[r, i, m] + 0
				for (i = n[r] - q + 1; i <= n[r]; i++)
					if (last < 0 || v[r, i, m] + 0 < last) last = v[r, i, m] + 0
				if (last > first + slack[m]) {
					printf "soak: run %s: %s grew and did not come back: " \
					       "first quarter at most %d, last quarter at least %d\n",
					       r, name[m], first, last
					bad = 1
				}
			}
		}
		exit bad
	}' "$1"
}

if [ "${1:-}" = --check ]; then
	[ -f "${2:-}" ] || die "--check needs a samples file"
	check_series "$2"
	echo "soak: $2: no series grew without coming back"
	exit 0
fi

# ---- arguments ----------------------------------------------------------
[ $# -ge 1 ] || die "usage: scripts/soak.sh DURATION [--out DIR] [--interval S]"
case "$1" in
*h) dur=$(( ${1%h} * 3600 )) ;;
*m) dur=$(( ${1%m} * 60 )) ;;
*) dur=$1 ;;
esac
[[ "$dur" =~ ^[0-9]+$ ]] && [ "$dur" -ge 20 ] ||
	die "DURATION '$1': at least 20 seconds (a number, or with m or h)"
shift
out="" interval=2
while [ $# -gt 0 ]; do
	case "$1" in
	--out) out=$2; shift 2 ;;
	--interval) interval=$2; shift 2 ;;
	*) die "unknown argument '$1'" ;;
	esac
done
[[ "$interval" =~ ^[0-9]+$ ]] && [ "$interval" -ge 1 ] ||
	die "--interval '$interval': whole seconds, at least 1"
[ -n "$out" ] || out=$(mktemp -d /tmp/ccdma-soak.XXXXXX)
mkdir -p "$out"
out=$(cd "$out" && pwd)

build=${BUILD_DIR:-build}
backends=${SOAK_BACKENDS:-devsim qsd}
qsd=${QSD:-qemu-storage-daemon}
depth=${SOAK_IODEPTH:-16}
pool_max_mib=32
export SOAK_POOL_MAX_KIB=$(( pool_max_mib * 1024 ))
if [ ! -x "$build/tools/ccdma-blk" ] || [ ! -x "$build/tools/ccdma-devsim" ]; then
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j"$(nproc)" --target ccdma-blk ccdma-devsim >/dev/null
fi
blk=$(cd "$build/tools" && pwd)/ccdma-blk
devsim=$(cd "$build/tools" && pwd)/ccdma-devsim
for b in $backends; do
	case "$b" in
	devsim) ;;
	qsd) command -v "$qsd" >/dev/null ||
		die "$qsd not found (Debian package qemu-system-common), or set SOAK_BACKENDS=devsim" ;;
	*) die "SOAK_BACKENDS: unknown back-end '$b' (devsim, qsd)" ;;
	esac
done
nb=$(echo $backends | wc -w)
per=$(( dur / nb ))

# ---- sampling -----------------------------------------------------------
# The value of a field of /proc/PID/status in KiB (0 when gone).
status_kib() { awk -v k="$2:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' \
	"/proc/$1/status" 2>/dev/null || echo 0; }
nfds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
# memfd mappings of the pool: "count kib" (each region is mapped once).
memfd_maps() {
	local range rest n=0 kib=0 lo hi
	while read -r range rest; do
		case "$rest" in
		*/memfd:*)
			lo=${range%-*} hi=${range#*-}
			n=$(( n + 1 ))
			kib=$(( kib + (16#$hi - 16#$lo) / 1024 )) ;;
		esac
	done <"/proc/$1/maps" 2>/dev/null || true
	echo "$n $kib"
}

samples=$out/samples.tsv
printf 'run\tt_s\trss_anon_kib\tfds\tregions\tshared_kib\tdev_fds\n' >"$samples"

dev_pid=""
start_backend() { # backend sock disk [devsim args...]
	local b=$1 sock=$2 disk=$3
	shift 3
	rm -f "$sock"
	case "$b" in
	devsim) "$devsim" --socket "$sock" --file "$disk" --size 256m --quiet "$@" \
		>>"$out/$b.log" 2>&1 & ;;
	qsd) "$qsd" --blockdev "driver=file,node-name=disk0,filename=$disk" \
		--export "type=vhost-user-blk,id=exp0,node-name=disk0,addr.type=unix,addr.path=$sock,writable=on,num-queues=1" \
		>>"$out/$b.log" 2>&1 & ;;
	esac
	dev_pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && return 0
		kill -0 "$dev_pid" 2>/dev/null || die "$b exited at start (see $out/$b.log)"
		sleep 0.1
	done
	die "$b did not create $sock in 10 s (see $out/$b.log)"
}

# Restarts: every restart_every seconds the device process is killed
# (SIGKILL) and started again on the same socket and disk; ccdma-blk
# reconnects and posts again what was in flight (--reconnect).  Every
# other ccdma-devsim restart misbehaves: a used-ring violation every 2000
# events (ccdma-devsim --misbehave), which the driver catches, and, with
# --reconnect-hostile, reconnects past.
restart_every=${SOAK_RESTART_EVERY:-$(( per / 6 > 5 ? per / 6 : 5 ))}
modes=(id-range idx-back id-unposted double)
restart_backend() { # backend sock disk n
	local extra=()
	kill -9 "$dev_pid" 2>/dev/null || true
	wait "$dev_pid" 2>/dev/null || true
	if [ "$1" = devsim ] && [ $(($4 % 2)) = 1 ]; then
		extra=(--misbehave "${modes[$(( ($4 / 2) % ${#modes[@]} ))]}"
		       --misbehave-after 300 --misbehave-every 2000)
	fi
	echo "soak: $1: restart $4 ${extra[*]}" >>"$out/restarts.log"
	start_backend "$1" "$2" "$3" "${extra[@]}"
}

cleanup() {
	[ -z "$dev_pid" ] || kill -9 "$dev_pid" 2>/dev/null || true
	[ -z "${blk_pid:-}" ] || kill -9 "$blk_pid" 2>/dev/null || true
}
trap cleanup EXIT

fail=0
for b in $backends; do
	sock=$out/$b.sock disk=$out/$b.img
	rm -f "$sock"
	truncate -s 256m "$disk"
	start_backend "$b" "$sock" "$disk"
	"$blk" --socket "$sock" --rw randrw --bs 512-4m --iodepth "$depth" \
		--size 256m --verify --runtime "$per" --pool-max "${pool_max_mib}m" \
		--pool-idle-ms 100 --pool-high-water 0 --linger 30000 \
		--reconnect=30 --reconnect-hostile --stall-timeout 10 --json --quiet >"$out/$b.json" 2>"$out/$b.blk.log" &
	blk_pid=$!
	t0=$(date +%s)
	restarts=0
	next=$((t0 + restart_every))
	while kill -0 "$blk_pid" 2>/dev/null; do
		# No restart in the last stretch: the run ends, then verifies.
		if [ "$(date +%s)" -ge "$next" ] && [ $(( $(date +%s) - t0 + restart_every / 2 )) -lt "$per" ]; then
			restarts=$((restarts + 1))
			restart_backend "$b" "$sock" "$disk" "$restarts"
			next=$(( $(date +%s) + restart_every ))
		fi
		read -r regions shared < <(memfd_maps "$blk_pid")
		printf '%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$b" $(( $(date +%s) - t0 )) \
			"$(status_kib "$blk_pid" RssAnon)" "$(nfds "$blk_pid")" \
			"$regions" "$shared" "$(nfds "$dev_pid")" >>"$samples"
		sleep "$interval"
	done
	rc=0
	wait "$blk_pid" || rc=$?
	blk_pid=""
	kill "$dev_pid" 2>/dev/null || true
	wait "$dev_pid" 2>/dev/null || true
	dev_pid=""
	rm -f "$disk"
	if [ "$rc" -ne 0 ]; then
		echo "soak: $b: ccdma-blk exited with $rc:" >&2
		tail -5 "$out/$b.blk.log" >&2
		fail=1
		continue
	fi
	# The run's own account: every byte verified, the pool grew and shrank.
	if ! grep -q '"verify_complete": true' "$out/$b.json" ||
	   ! grep -q '"verify_errors": 0,' "$out/$b.json" ||
	   ! grep -q '"result": "ok"' "$out/$b.json"; then
		echo "soak: $b: the run did not verify every byte: $(cat "$out/$b.json")" >&2
		fail=1
	fi
	# After the run, idle: the pool back at its floor (one region, the
	# rings), and nothing in use but the rings and the driver's
	# persistent bounce slots (slot_bytes, kept until the driver goes).
	linger=$(sed -n '/"linger"/,/}/p' "$out/$b.json")
	jfield() { sed -n "s/.*\"$1\": \([0-9a-z.]*\).*/\1/p"; }
	slots=$(jfield slot_bytes <"$out/$b.json")
	if [ "$(echo "$linger" | jfield settled)" != true ] ||
	   [ "$(echo "$linger" | jfield pool_regions)" != 1 ] ||
	   [ "$(echo "$linger" | jfield pool_in_use_bytes)" != \
	     "$(( $(echo "$linger" | jfield pool_in_use_before_bytes) + ${slots:-0} ))" ]; then
		echo "soak: $b: the pool did not come back after the run: $linger" >&2
		fail=1
	fi
	reconnects=$(jfield reconnects <"$out/$b.json")
	if [ "$restarts" -gt 0 ] && ! [ "${reconnects:-0}" -ge "$restarts" ]; then
		echo "soak: $b: $restarts restart(s) but ${reconnects:-no} reconnect(s)" >&2
		fail=1
	fi
	echo "soak: $b: $restarts restart(s) of the device process$([ "$b" = devsim ] &&
	     echo ' (every other one misbehaving)'), $reconnects reconnect(s)"
	echo "soak: $b: $per s, $(jfield verified_bytes <"$out/$b.json") bytes" \
	     "verified, pool regions created $(jfield pool_region_grows <"$out/$b.json")," \
	     "given back $(echo "$linger" | jfield pool_region_shrinks)," \
	     "back to $(echo "$linger" | jfield pool_regions) region(s) in" \
	     "$(echo "$linger" | jfield seconds) s"
done

# ---- plots (gnuplot, Debian package gnuplot-nox) ------------------------
plot() {
	local b
	command -v gnuplot >/dev/null || {
		echo "soak: no gnuplot: no plots (apt-get install gnuplot-nox)"; return 0; }
	for b in $backends; do
		awk -F'\t' -v b="$b" 'NR > 1 && $1 == b' "$samples" >"$out/$b.dat"
		gnuplot <<-GP
		set terminal pngcairo size 900,600 font ",10"
		set output "$out/soak-$b.png"
		set multiplot layout 2,1 title "ccdma soak, $b: ccdma-blk randrw --verify, 512 B - 4 MiB, pool cap ${pool_max_mib} MiB"
		set xlabel "time (s)"
		set ylabel "MiB"
		set key outside right
		plot "$out/$b.dat" using 2:(\$3/1024) with lines title "driver private (RssAnon)", \
		     "$out/$b.dat" using 2:(\$6/1024) with steps title "pool shared memory"
		set ylabel "count"
		plot "$out/$b.dat" using 2:4 with steps title "driver fds", \
		     "$out/$b.dat" using 2:5 with steps title "pool regions", \
		     "$out/$b.dat" using 2:7 with steps title "device fds"
		unset multiplot
		GP
		echo "soak: plot $out/soak-$b.png"
	done
}
plot

if [ "$fail" -eq 0 ] && check_series "$samples"; then
	echo "soak: passed; samples in $samples"
else
	echo "soak: FAILED; samples in $samples" >&2
	exit 1
fi
