/* SPDX-License-Identifier: MIT */
/*
 * Persistent bounce slots (ccdma_vblk_config.slot_size) never hand the
 * caller what an earlier request left in a slot: a read fills the queue's
 * one slot with disk data, then the device completes the next read on
 * that same slot with IOERR and a used length that claims every byte,
 * having written none.  The request fails with -EIO and the caller's
 * buffer is cleared: not one byte of the earlier read comes back.  The
 * slot was reused (one slot, two slot parts) and the device's data, when
 * it does write, arrives intact through it.
 */
#include "virtio_fake_dev.h"

#define LEN 4096

int main(void)
{
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_stats st;
	struct fake_dev fd;
	struct fake_opts o;
	struct ccdma_vblk *b;
	uint8_t *a = malloc(LEN), *c = malloc(LEN);

	test_init();
	REQUIRE(a && c);
	fake_opts_init(&o);
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	CHECK_EQ(cfg.slot_size, CCDMA_VBLK_SLOT_SIZE_DEFAULT);
	cfg.num_queues = 1;
	b = fake_vblk(&fd, &cfg);

	/* A good read through the slot: the disk's bytes. */
	memset(a, 0x5a, LEN);
	CHECK_EQ(ccdma_vblk_read(b, 0, a, LEN), 0);
	CHECK(memcmp(a, fd.disk, LEN) == 0);

	/* The next read, on the same slot, fails with every byte claimed. */
	fake_set_evil(&fd, FAKE_IOERR_CLAIM, 0);
	memset(c, 0x5a, LEN);
	CHECK_EQ(ccdma_vblk_read(b, 8, c, LEN), -EIO);
	CHECK_EQ(count_not(c, 0, LEN, 0), 0);
	fake_set_evil(&fd, FAKE_OK, 0);

	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.slots, 1);
	CHECK_EQ(st.slot_parts, 2);
	CHECK_EQ(st.slot_bytes, CCDMA_VBLK_SLOT_SIZE_DEFAULT);

	/* And the slot still carries good data. */
	CHECK_EQ(ccdma_vblk_read(b, 8, c, LEN), 0);
	CHECK(memcmp(c, fd.disk + 8 * 512, LEN) == 0);
	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	free(a);
	free(c);
	return test_done("virtio_blk_slot_stale");
}
