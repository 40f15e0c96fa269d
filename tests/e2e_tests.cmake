# End to end: the virtio-blk driver over the vhost-user front-end against
# real device processes (qemu-storage-daemon on a file and on null-co, and
# ccdma-devsim), and the ccdma-blk tool.
ccdma_add_backend_test(e2e_qsd_file)
ccdma_add_backend_test(e2e_qsd_null)
ccdma_add_backend_test(e2e_devsim)
ccdma_add_backend_test(e2e_private_never_shared)
ccdma_add_backend_test(e2e_blk_tool)
# Requests larger than the bounce pool holds at once (issue 12, D1).
ccdma_add_backend_test(e2e_blk_large)
