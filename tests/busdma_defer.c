/* SPDX-License-Identifier: MIT */
/*
 * busdma: loads with a callback, and FreeBSD's deferred loads.
 *
 * With memory free, ccdma_bus_dmamap_load_cb runs the callback before it
 * returns 0, with the map's segments.  On an exhausted fixed pool, NOWAIT
 * gives the callback ENOMEM and returns ENOMEM; WAITOK returns EINPROGRESS
 * at once, the map is pending (load EINVAL, sync EINVAL, destroy EBUSY),
 * and once memory is freed the callback runs on another thread with the
 * loaded segments, which carry the data.  Loads deferred one after
 * another complete in that order, however the memory comes back.  Memory
 * freed that is still too little retries the first load (the pool's
 * deferred-callback count moves) without calling back.  Unload of a pending map cancels it: its callback never
 * runs (a load deferred after it completes, and it still has not).
 * A length the map cannot take calls back with EINVAL and returns it; a
 * NULL callback is EINVAL with no callback.
 */
#include <pthread.h>

#include "busdma_mem_util.h"

#define POOL (1u << 20)
#define LEN 8192

static struct ccdma_dev *d;
static struct ccdma_pool *p;
static ccdma_bus_dma_tag_t t;
static struct bdm_hold hold;
static pthread_t main_thread;

/* What one map's callback saw. */
struct seen {
	int calls;         /* atomic */
	int nseg, error, order;
	bool segs_null, other_thread;
	size_t bytes;
};
static int order_next; /* atomic */

static void cb(void *arg, ccdma_bus_dma_segment_t *segs, int nseg, int error)
{
	struct seen *s = arg;
	int i;

	s->nseg = nseg;
	s->error = error;
	s->segs_null = segs == NULL;
	s->bytes = 0;
	for (i = 0; segs && i < nseg; i++)
		s->bytes += segs[i].ds_len;
	s->other_thread = !pthread_equal(pthread_self(), main_thread);
	s->order = __atomic_fetch_add(&order_next, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->calls, 1, __ATOMIC_RELEASE);
}

/* Wait (for an event, with a minute's margin) until s's callback ran. */
static bool wait_called(struct seen *s)
{
	uint64_t end = bdm_now_ns() + 60ull * 1000000000ull;

	while (!__atomic_load_n(&s->calls, __ATOMIC_ACQUIRE)) {
		if (bdm_now_ns() > end)
			return false;
		sched_yield();
	}
	return true;
}

static uint64_t deferred_runs(void)
{
	return bdm_stats(d).deferred_callbacks;
}

/* The map holds buf's bytes for the device after PREWRITE. */
static void check_data(ccdma_bus_dmamap_t m, unsigned char *buf, size_t len,
		       unsigned seed)
{
	unsigned char *view = malloc(len);

	REQUIRE(view);
	(void)seed;
	CHECK_EQ(m->dm_mapsize, len);
	CHECK_EQ(bdm_bounced_segs(m), m->dm_nsegs);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, buf, len));
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	free(view);
}

int main(void)
{
	unsigned char *buf = malloc(LEN), *buf2 = malloc(LEN);
	struct seen s0 = { 0 }, s1 = { 0 }, s2 = { 0 }, sc = { 0 };
	ccdma_bus_dmamap_t m, m2, mc;
	uint64_t runs;
	void *small, *tiny[2];
	int rc;

	test_init();
	REQUIRE(buf && buf2);
	main_thread = pthread_self();
	d = bdm_dev("bd-defer", POOL, true, NULL, CCDMA_ISOLATION_DENSE);
	p = ccdma_dev_pool(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &m2) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, 0, &mc) == 0);
	bdm_fill(buf, LEN, 1);
	bdm_fill(buf2, LEN, 2);

	/* Memory free: called back at once, from this thread. */
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, &s0, 0), 0);
	CHECK_EQ(s0.calls, 1);
	CHECK_EQ(s0.error, 0);
	CHECK(!s0.segs_null);
	CHECK_EQ(s0.nseg, m->dm_nsegs);
	CHECK_EQ(s0.bytes, LEN);
	CHECK(!s0.other_thread);
	check_data(m, buf, LEN, 1);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);

	/* Bad arguments: EINVAL, with and without a callback. */
	bdm_log_catch();
	memset(&s0, 0, sizeof(s0));
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, NULL, NULL, 0), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, NULL, LEN, cb, &s0, 0), EINVAL);
	CHECK_EQ(s0.calls, 0);
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN + 1, cb, &s0, 0), EINVAL);
	CHECK_EQ(s0.calls, 1);
	CHECK_EQ(s0.error, EINVAL);
	CHECK(s0.segs_null);
	CHECK_EQ(s0.nseg, 0);
	CHECK_EQ(bdm_log_errors, 3);
	ccdma_log_set_handler(NULL, NULL);

	/* Exhausted, NOWAIT: ENOMEM through the callback and the return.
	 * Two 64-byte slots of one span first: freeing one later gives back
	 * 64 bytes, not the span. */
	REQUIRE(ccdma_pool_alloc(p, 64, 0, &tiny[0]) == 0);
	REQUIRE(ccdma_pool_alloc(p, 64, 0, &tiny[1]) == 0);
	bdm_exhaust(p, &hold);
	memset(&s0, 0, sizeof(s0));
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, &s0,
					  CCDMA_BUS_DMA_NOWAIT), ENOMEM);
	CHECK_EQ(s0.calls, 1);
	CHECK_EQ(s0.error, ENOMEM);
	CHECK(s0.segs_null);
	CHECK_EQ(m->dm_nsegs, 0);

	/* Exhausted, WAITOK: deferred, two maps in order. */
	memset(&s1, 0, sizeof(s1));
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, &s1, 0), EINPROGRESS);
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m2, buf2, LEN, cb, &s2, 0), EINPROGRESS);
	CHECK_EQ(__atomic_load_n(&s1.calls, __ATOMIC_ACQUIRE), 0);
	/* Pending: no other load, no sync, no destroy. */
	bdm_log_catch();
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, buf, LEN, NULL, CCDMA_BUS_DMA_NOWAIT), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, LEN, CCDMA_BUS_DMASYNC_PREWRITE), EINVAL);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), EBUSY);
	CHECK_EQ(bdm_log_errors, 3);
	ccdma_log_set_handler(NULL, NULL);

	/* A little memory back, too little for either: the first is retried
	 * (the second waits behind it), no call. */
	runs = deferred_runs();
	CHECK_EQ(ccdma_pool_free(p, tiny[0], 0), 0);
	{
		uint64_t end = bdm_now_ns() + 60ull * 1000000000ull;

		while (deferred_runs() < runs + 1 && bdm_now_ns() < end)
			sched_yield();
	}
	CHECK(deferred_runs() >= runs + 1);
	CHECK_EQ(__atomic_load_n(&s1.calls, __ATOMIC_ACQUIRE), 0);
	CHECK_EQ(__atomic_load_n(&s2.calls, __ATOMIC_ACQUIRE), 0);
	/* Everything back: both complete, on another thread, in order. */
	bdm_release(p, &hold);
	CHECK_EQ(ccdma_pool_free(p, tiny[1], 0), 0);
	CHECK(wait_called(&s1));
	CHECK(wait_called(&s2));
	CHECK_EQ(s1.error, 0);
	CHECK_EQ(s2.error, 0);
	CHECK(s1.other_thread);
	CHECK(s2.other_thread);
	CHECK(s1.order < s2.order);
	CHECK_EQ(s1.nseg, m->dm_nsegs);
	CHECK_EQ(s1.bytes, LEN);
	CHECK_EQ(s2.bytes, LEN);
	check_data(m, buf, LEN, 1);
	check_data(m2, buf2, LEN, 2);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m2), 0);

	/* Cancel: unload of a pending map; its callback never runs, even
	 * after a load deferred behind it has completed. */
	bdm_exhaust(p, &hold);
	memset(&s1, 0, sizeof(s1));
	memset(&sc, 0, sizeof(sc));
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, mc, buf, LEN, cb, &sc, 0), EINPROGRESS);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, mc), 0);
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, LEN, cb, &s1, 0), EINPROGRESS);
	bdm_release(p, &hold);
	CHECK(wait_called(&s1));
	CHECK_EQ(s1.error, 0);
	CHECK_EQ(__atomic_load_n(&sc.calls, __ATOMIC_ACQUIRE), 0);
	CHECK_EQ(mc->dm_nsegs, 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	/* The cancelled map is usable again. */
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, mc, buf, LEN, cb, &sc, 0), 0);
	CHECK_EQ(sc.calls, 1);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, mc), 0);

	/* A small slot back serves a small deferred load. */
	REQUIRE(ccdma_pool_alloc(p, 4096, 0, &small) == 0);
	bdm_exhaust(p, &hold);
	memset(&s1, 0, sizeof(s1));
	CHECK_EQ(ccdma_bus_dmamap_load_cb(t, m, buf, 4096, cb, &s1, 0), EINPROGRESS);
	CHECK_EQ(ccdma_pool_free(p, small, 0), 0);
	CHECK(wait_called(&s1));
	CHECK_EQ(s1.error, 0);
	CHECK_EQ(s1.bytes, 4096);
	check_data(m, buf, 4096, 1);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	bdm_release(p, &hold);

	rc = ccdma_bus_dmamap_destroy(t, m);
	CHECK_EQ(rc, 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m2), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, mc), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
	free(buf2);
	return test_done("busdma_defer");
}
