# aarch64 (pKVM, Arm CCA): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64.cmake
# Needs Debian's gcc-aarch64-linux-gnu and qemu-user; see scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CCDMA_CROSS_TRIPLET aarch64-linux-gnu)
set(CCDMA_CROSS_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
