# riscv64 (CoVE): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/riscv64.cmake
# Needs Debian's gcc-riscv64-linux-gnu and qemu-user; see scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR riscv64)
set(CCDMA_CROSS_TRIPLET riscv64-linux-gnu)
set(CCDMA_CROSS_QEMU qemu-riscv64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
