/* SPDX-License-Identifier: MIT */
/*
 * A request larger than the persistent slot (ccdma_vblk_config.slot_size,
 * here 8 KiB) is bounced through the pool as without slots, and works:
 * 64 KiB and 1 MiB written and read back byte for byte, none through a
 * slot, each with its own pool allocation.  A request of exactly the slot
 * size and a smaller one go through the slot, with no pool allocation.
 */
#include "virtio_fake_dev.h"

#define SLOT (8u << 10)

static void rw(struct ccdma_vblk *b, struct fake_dev *fd, uint64_t sector,
	       size_t len, uint64_t seed)
{
	uint8_t *w = malloc(len), *r = malloc(len);

	REQUIRE(w && r);
	fake_pattern(w, len, seed);
	memset(r, 0x5a, len);
	CHECK_EQ(ccdma_vblk_write(b, sector, w, len), 0);
	CHECK(memcmp(fd->disk + sector * 512, w, len) == 0);
	CHECK_EQ(ccdma_vblk_read(b, sector, r, len), 0);
	CHECK(memcmp(r, w, len) == 0);
	free(w);
	free(r);
}

int main(void)
{
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct ccdma_vblk_stats st;
	struct fake_dev fd;
	struct fake_opts o;
	struct ccdma_vblk *b;
	uint64_t a0, a1;

	test_init();
	fake_opts_init(&o);
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.num_queues = 1;
	cfg.slot_size = SLOT;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.slot_size, SLOT);

	/* Larger than the slot: a pool bounce per request. */
	a0 = fake_pool_allocs(&fd);
	rw(b, &fd, 0, 64u << 10, 1);
	rw(b, &fd, 512, 1u << 20, 2);
	a1 = fake_pool_allocs(&fd);
	CHECK(a1 - a0 >= 4);
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.slot_parts, 0);
	CHECK_EQ(st.slots, 0);

	/* Exactly the slot, then smaller: the slot, made once. */
	rw(b, &fd, 4096, SLOT, 3);
	rw(b, &fd, 4200, 512, 4);
	ccdma_vblk_get_stats(b, &st);
	CHECK_EQ(st.slot_parts, 4);
	CHECK_EQ(st.slots, 1);
	CHECK_EQ(st.slot_bytes, SLOT);
	/* The slot's own allocation, nothing per request. */
	CHECK_EQ(fake_pool_allocs(&fd) - a1, 1);

	ccdma_vblk_destroy(b);
	fake_fini(&fd);
	return test_done("virtio_blk_slot_large");
}
