/* SPDX-License-Identifier: MIT */
/*
 * busdma: unload of a deferred load while the grower thread may be trying
 * it.  Again and again: a load is deferred, the one free slot it needs
 * comes back (the grower starts the retry), and the map is unloaded at
 * once.  Whatever the interleaving, the unload returns 0 and leaves the
 * map unloaded and usable, the map's bounce memory comes back, and a
 * callback that runs (the load completed before the unload) saw a good
 * load.  Before the fix an unload inside the retry failed with EBUSY, and
 * one just after it dereferenced the freed record.
 */
#include <pthread.h>

#include "busdma_mem_util.h"

#define POOL (1u << 20)
#define LEN 8192
#define ROUNDS 400

static struct ccdma_pool *p;
static int calls, bad_calls; /* atomic */

static void cb(void *arg, ccdma_bus_dma_segment_t *segs, int nseg, int error)
{
	(void)arg;
	if (error || !segs || nseg < 1)
		__atomic_add_fetch(&bad_calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&calls, 1, __ATOMIC_RELEASE);
}

/* Take one LEN slot back (it comes back from wherever the round left
 * it: an event, bounded by a minute). */
static void *take_slot(void)
{
	uint64_t end = bdm_now_ns() + 60ull * 1000000000ull;
	void *x = NULL;

	while (ccdma_pool_alloc(p, LEN, CCDMA_POOL_NOWAIT, &x)) {
		if (bdm_now_ns() > end)
			return NULL;
		sched_yield();
	}
	return x;
}

int main(void)
{
	unsigned char *buf = malloc(LEN);
	struct ccdma_dev *d;
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m;
	struct bdm_hold hold = { 0 };
	void *slot;
	int i, unload_fail = 0, still_loaded = 0, rc;

	test_init();
	REQUIRE(buf);
	bdm_fill(buf, LEN, 3);
	d = bdm_dev("bd-cancel", POOL, true, NULL, CCDMA_ISOLATION_DENSE);
	p = ccdma_dev_pool(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m) == 0);
	/* One LEN slot of our own, then nothing else free. */
	REQUIRE(ccdma_pool_alloc(p, LEN, 0, &slot) == 0);
	bdm_exhaust(p, &hold);

	for (i = 0; i < ROUNDS && !unload_fail; i++) {
		rc = ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, NULL, 0);
		CHECK_EQ(rc, EINPROGRESS);
		CHECK_EQ(ccdma_pool_free(p, slot, 0), 0); /* the grower retries */
		for (int spin = 0; spin < (i % 64) * 16; spin++)
			__asm__ __volatile__("" ::: "memory");
		rc = ccdma_bus_dmamap_unload(t, m);
		if (rc) {
			unload_fail++;
			CHECK_EQ(rc, 0);
			break;
		}
		if (m->dm_nsegs || m->dm_mapsize)
			still_loaded++;
		slot = take_slot();
		REQUIRE(slot);
	}
	CHECK_EQ(unload_fail, 0);
	CHECK_EQ(still_loaded, 0);
	CHECK_EQ(__atomic_load_n(&bad_calls, __ATOMIC_ACQUIRE), 0);
	CHECK(__atomic_load_n(&calls, __ATOMIC_ACQUIRE) <= ROUNDS);
	printf("busdma_defer_cancel_race: %d rounds, %d completed before the "
	       "unload\n", i, __atomic_load_n(&calls, __ATOMIC_ACQUIRE));
	/* The map is usable: a plain load and unload. */
	CHECK_EQ(ccdma_pool_free(p, slot, 0), 0);
	slot = NULL;
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, NULL, 0), 0);
	CHECK_EQ(m->dm_mapsize, LEN);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	bdm_release(p, &hold);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
	return test_done("busdma_defer_cancel_race");
}
