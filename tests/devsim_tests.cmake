# ccdma-devsim, the project's vhost-user-blk device process, driven by a
# tiny vhost-user client inside each test (devsim_client.h).
foreach(t devsim_rw devsim_protocol devsim_cli)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
    ccdma_add_backend_test(${t} TIMEOUT 60)
  endif()
endforeach()
