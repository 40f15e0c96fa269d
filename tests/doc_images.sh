#!/usr/bin/env bash
# CTest doc_images: every picture the README and docs/*.md show
# (![text](path.png)) is a PNG in the tree.
#   doc_images.sh SOURCE_DIR
# Exit 0 pass, 1 fail.
set -u
cd "$1" || exit 1
fail=0
n=0
for md in README.md docs/*.md; do
	dir=$(dirname "$md")
	for img in $(grep -oE '!\[[^]]*\]\([^)]*\.png\)' "$md" | sed -E 's/.*\(([^)]*)\)/\1/'); do
		n=$((n + 1))
		f=$dir/$img
		if [ ! -f "$f" ]; then
			echo "FAIL: $md shows $img, which is not in the tree ($f)"
			fail=1
		elif [ "$(od -An -tx1 -N8 "$f" | tr -d ' \n')" != 89504e470d0a1a0a ]; then
			echo "FAIL: $md shows $img, which is not a PNG"
			fail=1
		fi
	done
done
[ $n -gt 0 ] || { echo "FAIL: no picture found (the pattern is broken)"; fail=1; }
[ $fail = 0 ] && echo "ok: $n pictures, each a PNG in the tree"
exit $fail
