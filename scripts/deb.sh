#!/usr/bin/env bash
# Build the Debian packages (debian/: libccdma0, libccdma-dev, ccdma-tools)
# with dpkg-buildpackage from a clean copy of the tree, install them, and
# use them as a user would: an example (examples/linux_driver.c) built
# with pkg-config and no rpath runs against the installed libccdma.so.0,
# the man pages are in the packages, and ccdma-blk from
# ccdma-tools runs a verified job on the ccdma-devsim it starts.
#
#   scripts/deb.sh            # build, install, check, then remove them
#   scripts/deb.sh --keep     # leave them installed
#   OUT=DIR scripts/deb.sh    # keep the .deb files in DIR
#
# Needs root (apt-get, dpkg), and debhelper, dpkg-dev, cmake, pkg-config,
# gcc (.ci/run installs them; otherwise this script does, as root).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
keep=false
[ "${1:-}" = --keep ] && keep=true
[ "$(id -u)" = 0 ] || { echo "deb.sh: needs root (installs packages)" >&2; exit 2; }
need=()
for p in debhelper dpkg-dev cmake pkg-config gcc fakeroot; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/ccdma-deb.XXXXXX)
cleanup() {
	if ! $keep; then
		dpkg -r ccdma-tools libccdma-dev libccdma0 >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "deb.sh: failed at line $LINENO: $BASH_COMMAND" >&2' ERR
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
tree=$work/ccdma-$version
mkdir -p "$tree"
# The committed tree plus uncommitted changes, without build directories.
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
	git -C "$src" ls-files -z --cached --others --exclude-standard |
		grep -zv '^build' | (cd "$src" && xargs -0 cp --parents -t "$tree")
else
	cp -a "$src/." "$tree"
	rm -rf "$tree"/build*
fi
echo "== dpkg-buildpackage (ccdma $version)"
(cd "$tree" && dpkg-buildpackage -us -uc -b -j"$(nproc)" >"$work/build.log" 2>&1) || {
	tail -40 "$work/build.log" >&2
	echo "deb.sh: dpkg-buildpackage failed (log above)" >&2
	exit 1
}
ls "$work"/*.deb
if [ -n "${OUT:-}" ]; then
	mkdir -p "$OUT"
	cp "$work"/*.deb "$OUT"/
fi

echo "== install"
dpkg -i "$work"/libccdma0_*.deb "$work"/libccdma-dev_*.deb "$work"/ccdma-tools_*.deb >/dev/null
# (grep reads all its input: with -q it may stop early, and dpkg's
# SIGPIPE then fails the pipeline under pipefail, silently.)
dpkg -L libccdma0 | grep 'libccdma.so.0$' >/dev/null ||
	{ echo "deb.sh: libccdma0 has no libccdma.so.0" >&2; exit 1; }
dpkg -L libccdma-dev | grep '/pkgconfig/ccdma.pc$' >/dev/null ||
	{ echo "deb.sh: libccdma-dev has no ccdma.pc" >&2; exit 1; }

echo "== an example against the installed package (pkg-config, no rpath)"
# examples/linux_driver.c: map_single, coherent memory and chunk lists
# against its in-process device.
cp "$src/examples/linux_driver.c" "$work/app.c"
# shellcheck disable=SC2046
env -u PKG_CONFIG_PATH -u LD_LIBRARY_PATH \
	cc -o "$work/app" "$work/app.c" $(pkg-config --cflags --libs ccdma)
if readelf -d "$work/app" | grep -E 'RPATH|RUNPATH' >/dev/null; then
	echo "deb.sh: the program has an rpath" >&2
	exit 1
fi
env -u LD_LIBRARY_PATH "$work/app"
# The file the loader picked is the package's (/lib is /usr/lib on a
# merged-/usr system, so compare the files, not the paths).
lib=$(env -u LD_LIBRARY_PATH ldd "$work/app" | awk '/libccdma/ { print $3 }')
pkglib=$(dpkg -L libccdma0 | grep 'libccdma.so.0$')
if [ -z "$lib" ] || [ "$(readlink -f "$lib")" != "$(readlink -f "$pkglib")" ]; then
	echo "deb.sh: the program found libccdma at '$lib', not the package's $pkglib" >&2
	exit 1
fi
echo "linked at run time: $lib (package libccdma0: $pkglib)"

echo "== man pages: libccdma-dev (sections 3 and 7), ccdma-tools (section 1)"
files=$(dpkg -L libccdma-dev ccdma-tools)
for page in ccdma_map_single ccdma_bus_dmamap_load ccdma 'ccdma-blk'; do
	grep -q "/man[137]/$page\.[137]" <<<"$files" ||
		{ echo "deb.sh: no man page $page in the packages" >&2; exit 1; }
done
man -w ccdma_unmap_single >/dev/null 2>&1 || ! command -v man >/dev/null ||
	{ echo "deb.sh: man does not find the packaged ccdma_unmap_single(3)" >&2; exit 1; }

echo "== ccdma-tools: ccdma-blk starts the packaged ccdma-devsim"
(cd "$work" && env -u CCDMA_DEVSIM PATH=/usr/bin:/bin ccdma-blk --rw randrw \
	--bs 4k --iodepth 4 --size 8m --disk-size 16m --verify --quiet) | tee "$work/blk.txt"
grep -q 'every byte matched' "$work/blk.txt"
command -v ccdma-bench >/dev/null && command -v ccdma-demo >/dev/null
echo "deb.sh: packages built, installed and used ($version)$($keep && echo '; left installed')"
