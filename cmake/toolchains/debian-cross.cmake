# Shared part of the cross toolchain files in this directory: Debian's
# cross compilers (gcc-<triplet>, libc6-dev-<arch>-cross installs the libc
# under /usr/<triplet>) and qemu-user to run the tests.
#
# The including file sets CCDMA_CROSS_TRIPLET and CCDMA_CROSS_QEMU (the
# qemu-user program name) before including this one.  CTest then runs every
# test as `qemu-<arch> -L /usr/<triplet> <test>` (-L is QEMU_LD_PREFIX).
# Run-time options for qemu (QEMU_PAGESIZE=65536, ...) come from the
# environment, so one build can run under several page sizes.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${CCDMA_CROSS_TRIPLET}-gcc)

set(CCDMA_CROSS_SYSROOT /usr/${CCDMA_CROSS_TRIPLET} CACHE PATH
    "Target libc root: QEMU_LD_PREFIX for the tests")
set(CMAKE_FIND_ROOT_PATH ${CCDMA_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

find_program(CCDMA_CROSS_QEMU_PATH NAMES ${CCDMA_CROSS_QEMU} ${CCDMA_CROSS_QEMU}-static)
if(CCDMA_CROSS_QEMU_PATH)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${CCDMA_CROSS_QEMU_PATH} -L ${CCDMA_CROSS_SYSROOT})
else()
  message(WARNING "${CCDMA_CROSS_QEMU} not found (Debian package qemu-user): "
          "the tests build but cannot run")
endif()
