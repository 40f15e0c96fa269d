#!/usr/bin/env bash
# CTest plot_pngs: the figures of `ccdma-bench blk --plot` (the latency
# distributions) and `ccdma-bench blk-sweep --plot` (throughput against the
# block size) are drawn, short runs against ccdma-devsim:
#   plot_pngs.sh BENCH DEVSIM WORKDIR
# Checked: each NAME.png is a PNG of the size its NAME.gp asks for; the
# latency data has one block per case of `blk` whose shares add up to
# 100% in each mode; the sweep data has a row per block size, 4 KiB to
# 1 MiB doubling or quadrupling, every throughput above 0.
# Exit 0 pass, 1 fail, 77 skip (no gnuplot, outside CI).
set -u
bench=$1 devsim=$2 work=$3
if ! command -v gnuplot >/dev/null 2>&1; then
	if [ -n "${CI:-}" ]; then
		echo "FAIL: no gnuplot (Debian gnuplot-nox), and CI is set"
		exit 1
	fi
	echo "SKIP: no gnuplot (Debian gnuplot-nox)"
	exit 77
fi
rm -rf "$work"
mkdir -p "$work"
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# The PNG's width and height (from its IHDR chunk), as "W H".
png_size() {
	local sig
	sig=$(od -An -tx1 -N8 "$1" | tr -d ' \n')
	[ "$sig" = 89504e470d0a1a0a ] || { echo "not-a-png"; return; }
	od -An -tu1 -j16 -N8 "$1" | awk '{ print $1*16777216 + $2*65536 + $3*256 + $4,
					       $5*16777216 + $6*65536 + $7*256 + $8 }'
}

check_png() {
	local name=$1 want got
	want=$(sed -n 's/^set terminal pngcairo size \([0-9]*\),\([0-9]*\).*/\1 \2/p' "$work/$name.gp")
	[ -f "$work/$name.png" ] || { bad "$name.png was not drawn"; return; }
	got=$(png_size "$work/$name.png")
	[ -n "$want" ] && [ "$got" = "$want" ] || bad "$name.png: size '$got', its script asks for '$want'"
}

"$bench" blk --quick --only devsim --rounds 1 --seconds 0.02 --devsim "$devsim" \
	--plot "$work" > "$work/blk.out" 2>&1 || { cat "$work/blk.out"; bad "ccdma-bench blk exited with $?"; }
check_png blk-devsim-latency
# Per block (a case): the shares of each mode add up to 100 (each row
# rounded to 0.001).
awk '
	/^# [0-9a-z_]+$/ { if (n) done(); name = $2; n++; c = d = 0; next }
	/^#/ || NF == 0 { next }
	{ c += $2; d += $3; if ($1 <= 0) { print "FAIL: " name ": bound " $1; bad = 1 } }
	function done() {
		if (c < 99.5 || c > 100.5 || d < 99.5 || d > 100.5) {
			printf "FAIL: %s: shares add up to %.3f (confidential), %.3f (direct)\n", name, c, d
			bad = 1
		}
	}
	END {
		if (n) done()
		if (n != 10) { print "FAIL: " n " cases in the latency data, want 10"; bad = 1 }
		exit bad
	}' "$work/blk-devsim-latency.dat" || fail=1

"$bench" blk-sweep --quick --only devsim --seconds 0.02 --devsim "$devsim" \
	--plot "$work" > "$work/sweep.out" 2>&1 || { cat "$work/sweep.out"; bad "ccdma-bench blk-sweep exited with $?"; }
check_png blk-sweep-devsim
awk '
	/^#/ { next }
	{
		n++
		if ($1 != want[n]) { print "FAIL: row " n ": " $1 " KiB, want " want[n]; bad = 1 }
		for (i = 2; i <= 5; i++)
			if (!($i > 0)) { print "FAIL: " $1 " KiB: column " i " is " $i; bad = 1 }
	}
	BEGIN { split("4 16 64 256 1024", want, " ") }
	END { if (n != 5) { print "FAIL: " n " block sizes, want 5"; bad = 1 }; exit bad }
	' "$work/blk-sweep-devsim.dat" || fail=1

[ $fail = 0 ] && echo "ok: blk-devsim-latency.png and blk-sweep-devsim.png drawn, their data consistent"
exit $fail
