# s390x (IBM Secure Execution; big-endian): cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/s390x.cmake
# Needs Debian's gcc-s390x-linux-gnu and qemu-user; see scripts/cross.sh.
set(CMAKE_SYSTEM_PROCESSOR s390x)
set(CCDMA_CROSS_TRIPLET s390x-linux-gnu)
set(CCDMA_CROSS_QEMU qemu-s390x)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
