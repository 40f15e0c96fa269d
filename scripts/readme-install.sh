#!/usr/bin/env bash
# Run the install instructions of README.md ("Using the library") exactly
# as written, and check what they install.  Each ```sh block there follows
# a line `<!-- install-check: WHERE [WHICH] -->`:
#   WHERE  source: run in the source tree (where `build` is)
#          app:    run in a directory that holds app.c, a small program
#   WHICH  system: as root, in a private mount namespace whose /usr/local
#                  and /etc are overlays on a scratch directory, so the
#                  install and ldconfig leave the machine as it was
#          prefix: with HOME set to a scratch directory
#          (none): before both
# Nothing is added to the commands: no rpath, no LD_LIBRARY_PATH, no
# PKG_CONFIG_PATH beyond what the README says (the variables are cleared).
# Then: the library's SONAME, the installed tools start (--help), the
# examples (examples/*.c) build with pkg-config against the prefix and run
# (blk_client and zero_copy against the installed ccdma-devsim), and the man pages are
# installed and readable with man -M.
# Needs the build tree `build` (scripts/test.sh builds it; the README's
# build command then has nothing left to do).  The system part needs root
# and mount namespaces; elsewhere it is skipped with a note, except under
# CI, where that is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
readme=$src/README.md

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# block WHERE WHICH: the commands of the block with that marker.
block() {
  awk -v want="<!-- install-check: $1${2:+ $2} -->" '
    $0 == want { found = 1; next }
    found == 1 && /^```sh$/ { found = 2; next }
    found == 2 && /^```$/ { exit }
    found == 2 { print }
  ' "$readme"
}
for m in "source" "source system" "app system" "source prefix" "app prefix"; do
  # shellcheck disable=SC2086
  if [ -z "$(block $m)" ]; then
    echo "README.md: no \`<!-- install-check: $m -->\` block" >&2
    exit 1
  fi
done

# The program of the app blocks.
mkdir -p "$scratch/app"
cat > "$scratch/app/app.c" <<'C'
#include <ccdma/pool.h>
#include <stdio.h>
int main(void)
{
	struct ccdma_pool *p;
	void *a;
	if (ccdma_pool_create(NULL, &p) || ccdma_pool_alloc(p, 4096, CCDMA_POOL_WAIT, &a) ||
	    ccdma_pool_free(p, a, 4096))
		return 1;
	ccdma_pool_destroy(p);
	printf("installed library %s works\n", ccdma_version());
	return 0;
}
C

# run DIR WHERE WHICH: one block, echoed, in DIR, stopping at the first
# failing command (its output without make's and install's progress lines).
run() {
  local dir=$1
  shift
  block "$@" > "$scratch/block.sh"
  echo "-- README, $*: (in ${dir/#$scratch/<scratch>})"
  sed 's/^/   $ /' "$scratch/block.sh"
  (cd "$dir" && bash -euo pipefail "$scratch/block.sh") 2>&1 |
    sed '/^-- Install/d; /^-- Up-to-date/d; /^\[ *[0-9]*%\] Built target/d; s/^/   /'
}
export -f block run
export readme scratch
unset PKG_CONFIG_PATH LD_LIBRARY_PATH LIBRARY_PATH CPATH C_INCLUDE_PATH
export CCDMA_SHARE_COST_NS=0

run "$src" source

# System-wide, sandboxed.
sys_ok=0
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
  mkdir -p "$scratch"/{usr,usrw,etc,etcw}
  if unshare --mount --propagation private bash -euo pipefail -c '
      mount -t overlay overlay \
        -o lowerdir=/usr/local,upperdir="$scratch/usr",workdir="$scratch/usrw" /usr/local
      mount -t overlay overlay \
        -o lowerdir=/etc,upperdir="$scratch/etc",workdir="$scratch/etcw" /etc
      run "$1" source system
      run "$scratch/app" app system
      test -x "$scratch/app/app"
    ' sandbox "$src"; then
    sys_ok=1
  else
    echo "readme-install: the system-wide instructions FAILED" >&2
    exit 1
  fi
fi
if [ $sys_ok = 0 ]; then
  if [ -n "${CI:-}" ]; then
    echo "readme-install: the system-wide instructions need root and unshare (util-linux)" >&2
    exit 1
  fi
  echo "-- README, system-wide: skipped (needs root and unshare)"
fi

# Another prefix, with HOME in the scratch directory.
mkdir -p "$scratch/home"
rm -f "$scratch/app/app"
HOME=$scratch/home run "$src" source prefix
HOME=$scratch/home run "$scratch/app" app prefix

prefix=$scratch/home/ccdma
lib=$(find "$prefix" -name libccdma.so.0 | head -1)
objdump -p "$lib" | grep -q 'SONAME *libccdma\.so\.0$' ||
  { echo "readme-install: $lib: SONAME is not libccdma.so.0" >&2; exit 1; }
echo "SONAME libccdma.so.0 ok"
for t in ccdma-blk ccdma-devsim ccdma-demo ccdma-bench; do
  [ -x "$prefix/bin/$t" ] || { echo "readme-install: $t is not installed" >&2; exit 1; }
  "$prefix/bin/$t" --help >/dev/null ||
    { echo "readme-install: $prefix/bin/$t --help failed" >&2; exit 1; }
done
echo "installed tools start: ccdma-blk ccdma-devsim ccdma-demo ccdma-bench"

# The examples (examples/*.c) build against the installed library with
# pkg-config, as a user's program does, and run; so do the man pages.
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$(find "$prefix" -name ccdma.pc | head -1)")
libdir=$(pkg-config --variable=libdir ccdma)
mkdir -p "$scratch/examples"
for ex in linux_driver bsd_driver blk_client zero_copy; do
  # shellcheck disable=SC2046
  cc -Wall -Werror "$src/examples/$ex.c" -o "$scratch/examples/$ex" \
     $(pkg-config --cflags --libs ccdma) -Wl,-rpath,"$libdir" ||
    { echo "readme-install: examples/$ex.c does not build against the installed library" >&2; exit 1; }
done
"$scratch/examples/linux_driver" >/dev/null &&
  "$scratch/examples/bsd_driver" >/dev/null &&
  "$src/examples/with-devsim.sh" "$prefix/bin/ccdma-devsim" "$scratch/examples/blk_client" &&
  "$src/examples/with-devsim.sh" --net "$prefix/bin/ccdma-devsim" "$scratch/examples/zero_copy" >/dev/null ||
  { echo "readme-install: an example built against the installed library failed" >&2; exit 1; }
echo "examples build with pkg-config against the installed library and run: linux_driver bsd_driver blk_client zero_copy"
for page in man3/ccdma_map_single.3 man3/ccdma_bus_dmamap_load_at.3 man7/ccdma.7 man1/ccdma-blk.1; do
  [ -f "$prefix/share/man/$page" ] || { echo "readme-install: $page is not installed" >&2; exit 1; }
done
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -M "$prefix/share/man" 3 ccdma_unmap_single 2>/dev/null | grep -q 'RETURN VALUE' ||
    { echo "readme-install: man cannot show the installed ccdma_unmap_single(3)" >&2; exit 1; }
fi
echo "man pages installed: man -M $prefix/share/man ccdma"
