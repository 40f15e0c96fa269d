# Sourced by the scripts: make sure the build tools are there, installing
# them from Debian's archive when running as root on a machine without them.
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v cc >/dev/null 2>&1 || need+=(gcc)
command -v make >/dev/null 2>&1 || need+=(make)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing build tools: ${need[*]} (install them, e.g. apt-get install ${need[*]})" >&2
    exit 1
  fi
fi

# ensure_qsd: qemu-storage-daemon (Debian package qemu-system-common), the
# real vhost-user-blk back-end of the end-to-end tests and `ccdma-bench
# blk`.  Installed when running as root; otherwise those tests skip (77)
# and say so.
ensure_qsd() {
  command -v qemu-storage-daemon >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing qemu-system-common (qemu-storage-daemon) ..." >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends qemu-system-common >/dev/null
  else
    echo "note: qemu-storage-daemon is missing (apt-get install qemu-system-common);" \
         "the tests that need it will be skipped" >&2
  fi
}

# ccache_launcher: the CMAKE_C_COMPILER_LAUNCHER for the scripts' builds:
# ccache when CCACHE=1 (an error when it is missing), or when it is
# installed and CCACHE is not 0; else empty.  It pays only with a warm
# cache (building the same sources again on the same machine); on a fresh
# machine it costs a little (a cold cache: about 15% more compile time).
ccache_launcher() {
  case ${CCACHE:-auto} in
  0) ;;
  1)
    if ! command -v ccache >/dev/null 2>&1; then
      echo "CCACHE=1, but ccache is missing (apt-get install ccache)" >&2
      return 1
    fi
    echo ccache ;;
  *) if command -v ccache >/dev/null 2>&1; then echo ccache; fi ;;
  esac
}
