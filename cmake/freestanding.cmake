# The freestanding core (-DCCDMA_FREESTANDING_CHECK=ON, target
# ccdma_freestanding; scripts/freestanding.sh runs it).  Included at the end
# of src/CMakeLists.txt, once the source lists exist.
#
# The layers above the platform layer (pool, dma, busdma, and virtio once
# CCDMA_VIRTIO_SOURCES exists; vhost-user needs sockets and stays hosted),
# the platform layer's portable files (log.c, mode.c) and the shim
# (src/platform/freestanding/) are compiled to objects with -ffreestanding
# -nostdinc.  The only system headers on the
# include path are the compiler's own <stddef.h>, <stdint.h>, <stdbool.h>,
# <stdatomic.h> and <stdarg.h>: any other #include <...> fails to compile.
# Nothing is linked: an embedder links these objects with its own
# platform layer (docs/porting.md).
if(NOT CCDMA_FREESTANDING_CHECK)
  return()
endif()
if(NOT CMAKE_C_COMPILER_ID STREQUAL "GNU")
  message(FATAL_ERROR "CCDMA_FREESTANDING_CHECK needs GCC (its include directory "
          "layout); ${CMAKE_C_COMPILER_ID} found")
endif()

# The compiler's own include directory, reduced to the headers the core
# may use.  stdint-gcc.h is what GCC's <stdint.h> includes when not hosted.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
                OUTPUT_VARIABLE ccdma_cc_include OUTPUT_STRIP_TRAILING_WHITESPACE)
set(ccdma_free_include ${CMAKE_CURRENT_BINARY_DIR}/freestanding-include)
file(REMOVE_RECURSE ${ccdma_free_include})
file(MAKE_DIRECTORY ${ccdma_free_include})
foreach(h stddef.h stdint.h stdint-gcc.h stdbool.h stdatomic.h stdarg.h)
  if(NOT EXISTS ${ccdma_cc_include}/${h})
    message(FATAL_ERROR "${h} not in the compiler's include directory ${ccdma_cc_include}")
  endif()
  file(CREATE_LINK ${ccdma_cc_include}/${h} ${ccdma_free_include}/${h} SYMBOLIC)
endforeach()

set(CCDMA_FREESTANDING_SOURCES
  ${CCDMA_POOL_SOURCES}
  ${CCDMA_DMA_SOURCES}
  ${CCDMA_BUSDMA_SOURCES}
  ${CCDMA_VIRTIO_SOURCES}
  platform/log.c
  platform/mode.c
  platform/freestanding/headers.c
  platform/freestanding/libc.c)

add_library(ccdma_freestanding OBJECT EXCLUDE_FROM_ALL ${CCDMA_FREESTANDING_SOURCES})
target_compile_definitions(ccdma_freestanding PRIVATE CCDMA_BUILDING_LIBRARY)
target_compile_options(ccdma_freestanding PRIVATE
  -ffreestanding -nostdinc -isystem ${ccdma_free_include})
target_include_directories(ccdma_freestanding PRIVATE
  ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
set_target_properties(ccdma_freestanding PROPERTIES C_VISIBILITY_PRESET hidden)
set_source_files_properties(platform/freestanding/libc.c PROPERTIES
  COMPILE_OPTIONS -fno-tree-loop-distribute-patterns)

# examples/port_bare.c: an embedder's platform layer (the os.h hooks for
# TDX firmware), compiled the same way; scripts/freestanding.sh checks that
# the core plus this port need only the firmware's fw_* services.
add_library(ccdma_example_port OBJECT EXCLUDE_FROM_ALL
  ${PROJECT_SOURCE_DIR}/examples/port_bare.c)
target_compile_options(ccdma_example_port PRIVATE
  -ffreestanding -nostdinc -isystem ${ccdma_free_include})
target_include_directories(ccdma_example_port PRIVATE
  ${PROJECT_SOURCE_DIR}/include ${CMAKE_CURRENT_SOURCE_DIR})
