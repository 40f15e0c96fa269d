#!/usr/bin/env bash
# The library's USDT probes (docs/tracing.md).
#   trace_probes.sh notes DOC LIB BIN...   every probe of DOC's table is in
#       each file's stapsdt notes (provider ccdma), and nothing else is
#   trace_probes.sh fires BLK DEVSIM       kernel uprobes on every
#       ccdma:bounce location of BLK count the bounces of a short verified
#       run; exit 77 where probes cannot be attached here
set -u
mode=$1
shift

# The probe names of a file's notes, one per line, sorted, unique.
probes_in() {
	readelf -n "$1" 2>/dev/null | awk '
		/Provider: / { prov = $2 }
		/Name: / && prov == "ccdma" { print $2 }' | sort -u
}

if [ "$mode" = notes ]; then
	doc=$1
	shift
	want=$(grep -o '^| `ccdma:[a-z_]*`' "$doc" | sed 's/.*ccdma:\([a-z_]*\)`/\1/' | sort -u)
	[ -n "$want" ] || { echo "FAIL: no probe table in $doc"; exit 1; }
	fail=0
	for f in "$@"; do
		have=$(probes_in "$f")
		missing=$(comm -23 <(echo "$want") <(echo "$have"))
		extra=$(comm -13 <(echo "$want") <(echo "$have"))
		if [ -n "$missing" ]; then
			echo "FAIL: $f lacks the documented probe(s): $missing"; fail=1
		fi
		if [ -n "$extra" ]; then
			echo "FAIL: $f has probe(s) $doc does not list: $extra"; fail=1
		fi
	done
	[ $fail = 0 ] && echo "trace notes: $(echo "$want" | wc -l) probes in $# file(s), as documented"
	exit $fail
fi

[ "$mode" = fires ] || { echo "usage: $0 notes DOC FILE... | fires BLK DEVSIM"; exit 2; }
blk=$1 devsim=$2
skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root: cannot add uprobes"
tr=/sys/kernel/tracing
if [ ! -w "$tr/uprobe_events" ]; then
	mount -t tracefs nodev "$tr" 2>/dev/null || skip "no tracefs at $tr"
	[ -w "$tr/uprobe_events" ] || skip "no uprobe_events (kernel without uprobes)"
fi
# A private trace instance: nothing else reads or clears its buffer.
inst=$tr/instances/ccdma_test_$$
group=ccdma_test_$$
mkdir "$inst" 2>/dev/null || skip "cannot make a trace instance"
cleanup() {
	echo 0 >"$inst/events/$group/enable" 2>/dev/null
	for e in $(awk -v g="$group" -F'[:/ ]' '$2 == g { print $3 }' "$tr/uprobe_events" 2>/dev/null); do
		echo "-:$group/$e" >>"$tr/uprobe_events" 2>/dev/null
	done
	rmdir "$inst" 2>/dev/null
}
trap cleanup EXIT

# Each ccdma:bounce note: its address, turned into a file offset through
# the LOAD segment that holds it.
locs=$(readelf -n "$blk" | awk '
	/Provider: / { prov = $2 }
	/Name: / { name = $2 }
	/Location: / && prov == "ccdma" && name == "bounce" { sub(",", "", $2); print $2 }')
[ -n "$locs" ] || { echo "FAIL: no ccdma:bounce probe in $blk"; exit 1; }
n=0
while read -r loc; do
	off=""
	while read -r typ o v _ _ msz _; do
		if [ $((loc)) -ge $((v)) ] && [ $((loc)) -lt $((v + msz)) ]; then
			off=$((loc - v + o))
			break
		fi
	done < <(readelf -lW "$blk" | awk '$1 == "LOAD"')
	[ -n "$off" ] || { echo "FAIL: no load segment holds $loc"; exit 1; }
	echo "p:$group/bounce$n $blk:$(printf '0x%x' "$off")" >>"$tr/uprobe_events" ||
		skip "the kernel refused a uprobe"
	n=$((n + 1))
done <<<"$locs"
echo 1 >"$inst/events/$group/enable" || skip "cannot enable the uprobes"

out=$("$blk" --devsim "$devsim" --rw randrw --bs 4k --size 1m --disk-size 4m \
	--iodepth 4 --verify --quiet --json) || { echo "FAIL: ccdma-blk failed"; exit 1; }
echo 0 >"$inst/events/$group/enable"
fired=$(grep -c "bounce[0-9]*:" "$inst/trace")
ios=$(echo "$out" | awk -F': ' '/"reads"|"writes"/ { gsub(",", "", $2); s += $2 } END { print s + 0 }')
echo "trace fires: ccdma:bounce fired $fired times over $n location(s); the timed phase made $ios I/Os"
# Every write bounces in, every read out (prefill and read-back too).
[ "$ios" -gt 0 ] && [ "$fired" -ge "$ios" ] || { echo "FAIL: fewer bounce events than I/Os"; exit 1; }
