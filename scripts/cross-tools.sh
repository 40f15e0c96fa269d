# shellcheck shell=bash
# Sourced by scripts/cross.sh and scripts/freestanding.sh: the cross
# targets, and installing Debian's cross compilers (and qemu-user) when
# running as root on a machine without them.
cross_all=(aarch64 ppc64le s390x riscv64)

# target -> GNU triplet
cross_triplet() {
  case $1 in
  aarch64) echo aarch64-linux-gnu ;;
  ppc64le) echo powerpc64le-linux-gnu ;;
  s390x) echo s390x-linux-gnu ;;
  riscv64) echo riscv64-linux-gnu ;;
  *) echo "unknown target '$1' (use: ${cross_all[*]})" >&2; return 2 ;;
  esac
}

# target -> Debian architecture
cross_debarch() {
  case $1 in
  aarch64) echo arm64 ;;
  ppc64le) echo ppc64el ;;
  *) echo "$1" ;;
  esac
}

# cross_ensure_tools QEMU TARGET...: gcc-<triplet> and its libc for each
# target, and qemu-user when QEMU is 1.
cross_ensure_tools() {
  local qemu=$1 t tr need=()
  shift
  for t in "$@"; do
    tr=$(cross_triplet "$t") || return 2
    command -v "$tr-gcc" >/dev/null 2>&1 || need+=("gcc-$tr")
    [ -f "/usr/$tr/include/stdio.h" ] || need+=("libc6-dev-$(cross_debarch "$t")-cross")
    if [ "$qemu" = 1 ] && ! command -v "qemu-$t" >/dev/null 2>&1 &&
       ! command -v "qemu-$t-static" >/dev/null 2>&1; then
      need+=(qemu-user)
    fi
  done
  [ ${#need[@]} -gt 0 ] || return 0
  mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (apt-get install ${need[*]})" >&2
    return 1
  fi
}
