# ppc64le (IBM PEF secure VMs): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/ppc64le.cmake
# Needs Debian's gcc-powerpc64le-linux-gnu and qemu-user; see scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR ppc64le)
set(CCDMA_CROSS_TRIPLET powerpc64le-linux-gnu)
set(CCDMA_CROSS_QEMU qemu-ppc64le)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
