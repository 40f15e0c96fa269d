#!/usr/bin/env bash
# The soak's growth check (scripts/soak.sh --check) on made-up samples:
# series that rise and fall pass; private memory, fds besides the pool's
# regions, or the device's fds that grow and stay, or a pool above its cap,
# fail with a message naming the series.
set -u
soak=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0

# series NAME ROWS: write a samples file; each row "rss fds regions shared dev_fds".
series() {
	local f=$dir/$1.tsv t=0
	shift
	printf 'run\tt_s\trss_anon_kib\tfds\tregions\tshared_kib\tdev_fds\n' >"$f"
	for row in "$@"; do
		set -- $row
		printf 'x\t%d\t%s\t%s\t%s\t%s\t%s\n' $t "$1" "$2" "$3" "$4" "$5" >>"$f"
		t=$((t + 2))
	done
}
expect() { # expect STATUS NAME [TEXT]
	local out rc
	out=$(bash "$soak" --check "$dir/$2.tsv" 2>&1); rc=$?
	if [ "$rc" -ne "$1" ]; then
		echo "FAIL: $2: exit $rc, expected $1: $out"; fail=1
	elif [ -n "${3:-}" ] && ! grep -q -- "$3" <<<"$out"; then
		echo "FAIL: $2: no '$3' in: $out"; fail=1
	fi
}

# gen NAME AWK-EXPR: 16 samples; the expression prints sample i (1..16)
# as "rss fds regions shared dev_fds".
gen() {
	local name=$1
	mapfile -t rows < <(awk "BEGIN { for (i = 1; i <= 16; i++) $2 }")
	series "$name" "${rows[@]}"
}

# Regions come and go (3..5), fds with them.
gen stable '{ r = i % 3 + 3; print 60000, 8 + r, r, r * 4096, 12 }'
expect 0 stable "no series grew"
gen rss '{ print 60000 + i * 1024, 12, 4, 16384, 12 }'
expect 1 rss "rss_anon_kib grew and did not come back"
# Regions high at the end are the load, not a leak; fds beyond them are.
gen fds '{ print 60000, 9 + int(i / 4), 1, 4096, 12 }'
expect 1 fds "fds_besides_regions grew"
gen pool_load '{ r = int(i / 4); print 60000, 8 + r, r, r * 4096, 12 }'
expect 0 pool_load
gen dev '{ print 60000, 12, 4, 16384, 12 + int(i / 4) }'
expect 1 dev "dev_fds grew"
gen cap '{ print 60000, 17, 9, 36864, 12 }'
expect 1 cap "above its cap of 32768 KiB"
# A spike in the middle that comes back is no leak.
gen spike '{ if (i >= 6 && i <= 10) print 90000, 20, 4, 16384, 14;
	     else print 60000, 12, 4, 16384, 12 }'
expect 0 spike

series short "60000 12 4 16384 12" "90000 20 4 16384 20"
expect 0 short "too few to judge"

[ "$fail" -eq 0 ] && echo "soak check: all cases as expected"
exit $fail
