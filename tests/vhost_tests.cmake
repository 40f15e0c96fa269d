# vhost-user front-end (src/vhost/): against qemu-storage-daemon (skipped
# when it is missing or in cross builds) and against hostile back-ends the
# tests serve themselves.
ccdma_add_backend_test(vhost_connect_qsd)
ccdma_add_backend_test(vhost_ring_qsd)
ccdma_add_backend_test(vhost_mem_table_qsd)
# No back-end process: the hostile back-end is a thread of the test.
ccdma_add_test(vhost_errors)
# vhost_util.h includes backend_util.h, which uses tools/blkjob.c.
target_link_libraries(vhost_errors PRIVATE ccdma_blkjob)
