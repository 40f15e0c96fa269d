# ccdma-devsim: vhost-user-blk back-end in its own process (docs/devsim.md).
add_executable(ccdma-devsim
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/main.c
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/vu.c
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/mem.c
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/vq.c
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/blk.c
  ${CMAKE_CURRENT_SOURCE_DIR}/devsim/net.c)
target_link_libraries(ccdma-devsim PRIVATE ccdma_internal Threads::Threads)
target_compile_definitions(ccdma-devsim PRIVATE _GNU_SOURCE)
install(TARGETS ccdma-devsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
