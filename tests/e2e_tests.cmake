# End to end: the virtio-blk driver over the vhost-user front-end against
# real device processes (qemu-storage-daemon on a file and on null-co, and
# ccdma-devsim), and the ccdma-blk tool.
ccdma_add_backend_test(e2e_qsd_file)
ccdma_add_backend_test(e2e_qsd_null)
ccdma_add_backend_test(e2e_devsim)
ccdma_add_backend_test(e2e_private_never_shared)
# Several devices on one pool (issue 14, section 4).
ccdma_add_backend_test(e2e_shared_pool)
ccdma_add_backend_test(e2e_pool_shrink_io)
# The transport's gate pauses the driver's threads: ThreadSanitizer too.
set_tests_properties(e2e_pool_shrink_io PROPERTIES LABELS "device;concurrency")
ccdma_add_backend_test(dmabuf_vhost_cutoff)
ccdma_add_backend_test(e2e_sync_threads)
set_tests_properties(e2e_sync_threads PROPERTIES LABELS "device;concurrency")
ccdma_add_backend_test(e2e_blk_tool)
# A device process never outlives the program that started it.
ccdma_add_backend_test(e2e_devsim_orphan)
# Requests larger than the bounce pool holds at once (issue 12, D1).
ccdma_add_backend_test(e2e_blk_large)
# Faults survived: device processes killed and restarted under a --verify
# run with --reconnect (issue 13, section 3).
ccdma_add_backend_test(e2e_reconnect)
ccdma_add_backend_test(e2e_reconnect_fail)
ccdma_add_backend_test(e2e_reconnect_stall)
# ccdma-blk as a user runs it (issue 12, D1-D5), and the device program
# lookup it shares with ccdma-bench blk.
foreach(t blk_tool_limits blk_tool_failure blk_tool_messages blk_tool_find_devsim blk_tool_numjobs
    blk_tool_devices
    blk_tool_sizes)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${t}.c)
    ccdma_add_backend_test(${t})
  endif()
endforeach()
# The soak's growth check on made-up samples (scripts/soak.sh --check).
add_test(NAME soak_check COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/soak_check.sh
         ${PROJECT_SOURCE_DIR}/scripts/soak.sh)
set_tests_properties(soak_check PROPERTIES TIMEOUT 60 LABELS unit)
