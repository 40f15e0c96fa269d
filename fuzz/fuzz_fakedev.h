/* SPDX-License-Identifier: MIT */
/*
 * The in-process virtio-blk device of the tests (tests/virtio_fake_dev.h)
 * set up for a fuzz run: one dma device for the whole process (made once:
 * creating a pool per input would cost more than the input), a fresh
 * fake_dev around it per input, and the checks every target makes when
 * the driver is gone (pool back to empty, the ownership checker silent).
 */
#ifndef CCDMA_FUZZ_FAKEDEV_H
#define CCDMA_FUZZ_FAKEDEV_H

#include "virtio_fake_dev.h"
#include "fuzz_util.h"

static struct ccdma_dev *fz_dma;

/* Once per process: checker on, log quiet (CCDMA_FUZZ_LOG=1 keeps it),
 * the dma device in confidential mode (every payload bounced). */
static inline void fz_global_init(void)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config dc;

	if (fz_dma)
		return;
	if (!getenv("CCDMA_FUZZ_LOG"))
		ccdma_log_set_handler(fz_quiet, NULL);
	ccdma_debug_set(CCDMA_DEBUG_ON);
	ccdma_share_cost_set_ns(0);
	test_config(&pc, "fuzz");
	pc.max_bytes = 64u << 20;
	ccdma_dev_config_init(&dc);
	fz_dma = test_dev("fuzz", &dc, CCDMA_MODE_CONFIDENTIAL, &pc);
}

/* A fake device over fz_dma offering `offered` (the test defaults for the
 * config space, capacity `sectors`), not started: the caller changes
 * what it fuzzes, then creates the driver. */
static inline void fz_fake_init(struct fake_dev *fd, uint64_t offered,
				unsigned nq, unsigned qmax, uint64_t sectors)
{
	memset(fd, 0, sizeof(*fd));
	fd->dma = fz_dma;
	fd->t.ops = &fake_ops;
	fd->t.ctx = fd;
	pthread_mutex_init(&fd->lock, NULL);
	pthread_cond_init(&fd->dev_cond, NULL);
	pthread_cond_init(&fd->irq_cond, NULL);
	fd->offered = offered;
	fd->nq = nq;
	fd->qmax = qmax;
	fd->disk_bytes = 0;
	memcpy(fd->id, "ccdma-fuzz-0123456789", CCDMA_VBLK_ID_BYTES);
	fake_cfg64(fd, CCDMA_VBLK_CFG_CAPACITY, sectors);
	fake_cfg32(fd, CCDMA_VBLK_CFG_SIZE_MAX, 64u << 10);
	fake_cfg32(fd, CCDMA_VBLK_CFG_SEG_MAX, 32);
	fake_cfg32(fd, CCDMA_VBLK_CFG_BLK_SIZE, 512);
	fake_cfg16(fd, CCDMA_VBLK_CFG_NUM_QUEUES, (uint16_t)nq);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_DISCARD_SECTORS, 2048);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_DISCARD_SEG, 1);
	fake_cfg32(fd, CCDMA_VBLK_CFG_DISCARD_ALIGN, 1);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_WZ_SECTORS, 4096);
	fake_cfg32(fd, CCDMA_VBLK_CFG_MAX_WZ_SEG, 1);
}

static inline void fz_fake_fini(struct fake_dev *fd)
{
	pthread_cond_destroy(&fd->irq_cond);
	pthread_cond_destroy(&fd->dev_cond);
	pthread_mutex_destroy(&fd->lock);
}

/* Bytes of the dma device's pool in use: rings, scratch and bounce. */
static inline uint64_t fz_in_use(void)
{
	struct ccdma_pool_stats st;

	FZ_CHECK(ccdma_pool_get_stats(ccdma_dev_pool(fz_dma), &st) == 0, "stats");
	return st.in_use_bytes;
}

/* Leave `byte` in free pool memory of the sizes bounce buffers take, so
 * that a driver that hands stale bounce bytes to a caller is caught the
 * same way in every run (in a fresh process the pool is all zeros). */
#define FZ_STALE_BYTE 0x5e
static inline void fz_dirty_pool(void)
{
	struct ccdma_pool *pool = ccdma_dev_pool(fz_dma);
	void *p[5][8];
	int k, i;

	for (k = 0; k < 5; k++)
		for (i = 0; i < 8; i++) {
			size_t len = 512u << k;

			FZ_CHECK(ccdma_pool_alloc(pool, len, 0, &p[k][i]) == 0,
				 "pool alloc");
			memset(p[k][i], FZ_STALE_BYTE, len);
		}
	for (k = 4; k >= 0; k--)
		for (i = 7; i >= 0; i--)
			FZ_CHECK(ccdma_pool_free(pool, p[k][i], SIZE_MAX) == 0,
				 "pool free");
}

/* After the driver is destroyed: everything it took from the pool is
 * back, and the ownership checker reported nothing. */
static inline void fz_check_released(uint64_t in_use_before)
{
	uint64_t now = fz_in_use();

	FZ_CHECK(now == in_use_before, "pool in use: %llu bytes before, %llu "
		 "after the driver was destroyed", (unsigned long long)in_use_before,
		 (unsigned long long)now);
	FZ_CHECK(ccdma_debug_count(CCDMA_DBG_NKINDS) == 0,
		 "ownership checker: %llu report(s)",
		 (unsigned long long)ccdma_debug_count(CCDMA_DBG_NKINDS));
}

#endif /* CCDMA_FUZZ_FAKEDEV_H */
