#!/usr/bin/env bash
# The README's bpftrace one-liner, run as written (build/tools/ccdma-blk
# replaced by the tool under test): it must print a histogram of bytes
# copied per bounce for each direction, with every 4 KiB bounce of the
# run in the [4K, 8K) bucket.  Exit 77 where bpftrace is missing or cannot
# attach probes here (not root, no BPF).
#   readme_bpftrace.sh README BLK
set -u
readme=$1 blk=$2
skip() { echo "SKIP: $*"; exit 77; }
command -v bpftrace >/dev/null 2>&1 || skip "bpftrace is not installed (apt-get install bpftrace)"
[ "$(id -u)" = 0 ] || skip "not root: bpftrace cannot attach probes"

# The command: the sh block after the line that introduces bpftrace, with
# its continuation lines joined.
cmd=$(awk '/^or with bpftrace/ { want = 1; next }
	want && /^```sh/ { inblk = 1; next }
	inblk && /^```/ { exit }
	inblk { print }' "$readme" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
case $cmd in
bpftrace*build/tools/ccdma-blk*) ;;
*) echo "FAIL: no bpftrace command on build/tools/ccdma-blk in $readme: '$cmd'"; exit 1 ;;
esac
cmd=${cmd//build\/tools\/ccdma-blk/$blk}
echo "running: $cmd"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout 300 bash -c "$cmd" >"$out" 2>&1
rc=$?
if ! grep -q '^Attaching' "$out"; then
	cat "$out"
	skip "bpftrace could not attach here (exit $rc)"
fi
cat "$out"
[ $rc = 0 ] || { echo "FAIL: the command exited with $rc"; exit 1; }
fail=0
for dir in 0 1; do
	# The histogram of one direction: its [4K, 8K) bucket's count.
	n=$(awk -v h="@to_device[$dir]:" '$0 ~ /^@/ { cur = $1 }
		cur == h && /^\[4K, 8K\)/ { print $3 }' "$out")
	ios=$(awk -v w="$([ $dir = 1 ] && echo write: || echo read:)" \
		'$1 == w { print $2; exit }' "$out")
	if [ -z "$n" ] || [ "$n" -le 0 ]; then
		echo "FAIL: no 4 KiB bounces counted towards direction $dir"; fail=1
	elif [ -z "$ios" ] || [ "$n" -lt "$ios" ]; then
		echo "FAIL: direction $dir: $n bounces counted, fewer than the $ios I/Os"; fail=1
	else
		echo "direction $dir: $n bounces of 4 KiB counted for $ios I/Os"
	fi
done
exit $fail
