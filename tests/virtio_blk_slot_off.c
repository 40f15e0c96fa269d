/* SPDX-License-Identifier: MIT */
/*
 * Persistent slots disabled (ccdma_vblk_config.slot_size 0): every 4 KiB
 * request is bounced through the pool (one allocation per request), no
 * slot is made, and the data is right.  With the default (64 KiB), 64
 * sequential 4 KiB requests make one slot and allocate nothing from the
 * pool after it; direct mode (buffers already shared) never takes a slot.
 */
#include "virtio_fake_dev.h"

#define LEN 4096
#define N 64

/* N writes and N reads of 4 KiB through a driver with slot_size; returns
 * the pool allocations they made, *st the driver's counters. */
static uint64_t run(int mode, uint32_t slot_size, struct ccdma_vblk_stats *st)
{
	struct ccdma_vblk_config cfg;
	struct ccdma_vblk_info info;
	struct fake_dev fd;
	struct fake_opts o;
	struct ccdma_vblk *b;
	uint8_t *w, *r;
	void *shared = NULL;
	ccdma_addr_t dma;
	uint64_t a0, a1;

	fake_opts_init(&o);
	o.mode = mode;
	fake_init(&fd, &o);
	ccdma_vblk_config_init(&cfg);
	cfg.num_queues = 1;
	cfg.slot_size = slot_size;
	b = fake_vblk(&fd, &cfg);
	ccdma_vblk_get_info(b, &info);
	CHECK_EQ(info.slot_size, slot_size);
	if (mode == CCDMA_MODE_DIRECT) {
		/* Shared buffers, as a direct-mode caller has them. */
		REQUIRE(ccdma_alloc_coherent(fd.dma, 2 * LEN, &shared, &dma, 0) == 0);
		w = shared;
		r = w + LEN;
	} else {
		w = malloc(LEN);
		r = malloc(LEN);
		REQUIRE(w && r);
	}
	a0 = fake_pool_allocs(&fd);
	for (unsigned i = 0; i < N; i++) {
		fake_pattern(w, LEN, i + 1);
		memset(r, 0x5a, LEN);
		CHECK_EQ(ccdma_vblk_write(b, 8 * i, w, LEN), 0);
		CHECK_EQ(ccdma_vblk_read(b, 8 * i, r, LEN), 0);
		CHECK(memcmp(r, w, LEN) == 0);
	}
	a1 = fake_pool_allocs(&fd);
	ccdma_vblk_get_stats(b, st);
	ccdma_vblk_destroy(b);
	if (shared)
		CHECK_EQ(ccdma_free_coherent(fd.dma, 2 * LEN, shared, dma), 0);
	else {
		free(w);
		free(r);
	}
	fake_fini(&fd);
	return a1 - a0;
}

int main(void)
{
	struct ccdma_vblk_stats st;
	uint64_t n;

	test_init();
	n = run(CCDMA_MODE_CONFIDENTIAL, 0, &st);
	CHECK(n >= 2 * N);
	CHECK_EQ(st.slot_parts, 0);
	CHECK_EQ(st.slots, 0);
	CHECK_EQ(st.slot_bytes, 0);

	n = run(CCDMA_MODE_CONFIDENTIAL, CCDMA_VBLK_SLOT_SIZE_DEFAULT, &st);
	CHECK_EQ(n, 1);
	CHECK_EQ(st.slot_parts, 2 * N);
	CHECK_EQ(st.slots, 1);

	n = run(CCDMA_MODE_DIRECT, CCDMA_VBLK_SLOT_SIZE_DEFAULT, &st);
	CHECK_EQ(n, 0);
	CHECK_EQ(st.slot_parts, 0);
	CHECK_EQ(st.slots, 0);
	return test_done("virtio_blk_slot_off");
}
