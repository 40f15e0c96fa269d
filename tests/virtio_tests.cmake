# virtio: split virtqueue and virtio-blk driver against an in-process device
# (tests/virtio_fake_dev.h).
ccdma_add_test(virtio_blk_rw)
ccdma_add_test(virtio_blk_ops)
ccdma_add_test(virtio_blk_async LABEL concurrency)
ccdma_add_test(virtio_blk_features LABEL concurrency)
ccdma_add_test(virtio_blk_hostile LABEL concurrency CASES
  id-range id-not-inflight double len-big bad-status idx-jump no-status len-short
  disconnect destroy-inflight)
ccdma_add_test(virtio_blk_config)
# A failed kick: when the queue's requests complete.
ccdma_add_test(virtio_blk_kick_fail)
ccdma_add_test(virtio_used_bounds)
# Persistent bounce slots (ccdma_vblk_config.slot_size).
ccdma_add_test(virtio_blk_slot_stale)
ccdma_add_test(virtio_blk_slot_large)
ccdma_add_test(virtio_blk_slot_off)
