/* SPDX-License-Identifier: MIT */
/*
 * busdma: ENOMEM when bounce memory is short.
 *
 * On an exhausted fixed pool a lazy map's load of private memory under
 * CCDMA_BUS_DMA_NOWAIT fails at once with ENOMEM (linear and iovec loads),
 * logs no error (an expected condition), leaves the map unloaded and holds
 * nothing; a load that needs no bounce (pool memory) still succeeds.  Once
 * memory is freed the very same load succeeds and carries the data.  A
 * little memory back serves a small load while a bigger one still fails.
 * WAITOK (flags 0) blocks until another thread frees memory and then
 * succeeds; with nobody freeing it gives up with ENOMEM after the pool's
 * wait bound (1 s).
 */
#include <pthread.h>
#include <unistd.h>

#include "busdma_mem_util.h"

#define POOL (1u << 20)
#define LEN 8192
#define BIG 100000 /* a large-class bounce: no thread caches involved */

static struct ccdma_dev *d;
static struct bdm_hold hold;

/* Loads of `buf` (linear, then as an iovec of two pieces) fail with ENOMEM
 * under NOWAIT, change nothing and log no error. */
static void expect_enomem(int line, ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
			  unsigned char *buf, size_t len)
{
	/* Two pieces 64 bytes apart (buf has room for the gap). */
	struct ccdma_iovec iov[2] = { { buf, len / 2 },
				      { buf + len / 2 + 64, len - len / 2 } };
	struct ccdma_pool_stats before = bdm_stats(d), after;
	int before_fail = test_failures;
	int rc1, rc2;

	bdm_log_catch();
	rc1 = ccdma_bus_dmamap_load(t, m, buf, len, NULL, CCDMA_BUS_DMA_NOWAIT);
	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(m->dm_mapsize, 0);
	rc2 = ccdma_bus_dmamap_load_iovec(t, m, iov, 2, CCDMA_BUS_DMA_NOWAIT);
	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(m->dm_mapsize, 0);
	CHECK_EQ(rc1, ENOMEM);
	CHECK_EQ(rc2, ENOMEM);
	/* ENOMEM under NOWAIT is expected: no error line. */
	CHECK_EQ(bdm_log_errors, 0);
	/* The map is not loaded: unload refuses (and that is an error). */
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), EINVAL);
	CHECK_EQ(bdm_log_errors, 1);
	ccdma_log_set_handler(NULL, NULL);
	/* Nothing held, and the pool did answer -ENOMEM twice. */
	after = bdm_stats(d);
	CHECK_EQ(after.in_use_bytes, before.in_use_bytes);
	CHECK_EQ(after.allocs - after.frees, before.allocs - before.frees);
	CHECK_EQ(after.failures - before.failures, 2);
	if (test_failures != before_fail)
		fprintf(stderr, "  (expect_enomem called at line %d)\n", line);
}

/* A load that must work: NOWAIT, data to the device and back. */
static void load_ok(ccdma_bus_dma_tag_t t, ccdma_bus_dmamap_t m,
		    unsigned char *buf, size_t len, unsigned seed)
{
	unsigned char *view = malloc(len);
	uint64_t base = bdm_in_use(d);

	REQUIRE(view);
	bdm_fill(buf, len, seed);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, buf, len, NULL, CCDMA_BUS_DMA_NOWAIT), 0);
	CHECK_EQ(m->dm_mapsize, len);
	CHECK(m->dm_nsegs >= 1);
	CHECK_EQ(bdm_seg_bytes(m), len);
	CHECK_EQ(bdm_bounced_segs(m), m->dm_nsegs);
	CHECK(bdm_in_use(d) >= base + len);
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_PREWRITE), 0);
	CHECK_EQ(bdm_dev_view(d, m, view), 0);
	CHECK(!memcmp(view, buf, len));
	CHECK_EQ(ccdma_bus_dmamap_sync(t, m, 0, len, CCDMA_BUS_DMASYNC_POSTWRITE), 0);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	CHECK_EQ(bdm_in_use(d), base);
	free(view);
}

static void *freer(void *arg)
{
	void *victim = arg;

	usleep(100 * 1000);
	CHECK_EQ(ccdma_pool_free(ccdma_dev_pool(d), victim, 0), 0);
	return NULL;
}

int main(void)
{
	struct ccdma_pool *p;
	ccdma_bus_dma_tag_t t;
	ccdma_bus_dmamap_t m, mbig;
	unsigned char *buf = malloc(BIG + 128), *sh;
	uint64_t base, t0, dt;
	pthread_t th;
	void *victim, *small;
	unsigned i;
	int rc;

	test_init();
	REQUIRE(buf);
	d = bdm_dev("bd-nowait", POOL, true, NULL, CCDMA_ISOLATION_DENSE);
	p = ccdma_dev_pool(d);
	REQUIRE(ccdma_bus_dma_tag_create(d, NULL, NULL, &t) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, CCDMA_BUS_DMA_NOWAIT, &m) == 0);
	REQUIRE(ccdma_bus_dmamap_create(t, BIG, 4, 0, 0, CCDMA_BUS_DMA_NOWAIT, &mbig) == 0);
	base = bdm_in_use(d);
	CHECK_EQ(base, 0); /* lazy maps hold nothing while idle */

	/* The pool has room: the load works. */
	load_ok(t, m, buf, LEN, 1);

	/* Exhausted: ENOMEM, nothing held, map left unloaded. */
	bdm_exhaust(p, &hold);
	for (i = 0; i < 3; i++)
		expect_enomem(__LINE__, t, m, buf, LEN);
	expect_enomem(__LINE__, t, mbig, buf, BIG);
	expect_enomem(__LINE__, t, m, buf, 1);

	/* Pool memory needs no bounce: loaded in place even now. */
	sh = hold.p[0];
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, sh, LEN, NULL, CCDMA_BUS_DMA_NOWAIT), 0);
	CHECK_EQ(m->dm_nsegs, 1);
	CHECK_EQ(m->dm_segs[0]._ds_bounce_va, 0);
	CHECK_EQ(m->dm_segs[0]._ds_va, (uintptr_t)sh);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);

	/* Destroying the maps after failed loads works (nothing loaded). */
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	REQUIRE(ccdma_bus_dmamap_create(t, LEN, 4, 0, 0, CCDMA_BUS_DMA_NOWAIT, &m) == 0);
	expect_enomem(__LINE__, t, m, buf, LEN);

	/* One 4 KiB slot back: a 4 KiB load fits, an 8 KiB one still not. */
	bdm_release(p, &hold);
	REQUIRE(ccdma_pool_alloc(p, 4096, 0, &small) == 0);
	bdm_exhaust(p, &hold);
	CHECK_EQ(ccdma_pool_free(p, small, 0), 0);
	bdm_fill(buf, 4096, 5);
	CHECK_EQ(ccdma_bus_dmamap_load(t, m, buf, 4096, NULL, CCDMA_BUS_DMA_NOWAIT), 0);
	CHECK_EQ(m->dm_mapsize, 4096);
	CHECK_EQ(bdm_bounced_segs(m), 1);
	CHECK_EQ(ccdma_bus_dmamap_unload(t, m), 0);
	expect_enomem(__LINE__, t, m, buf, LEN);

	/* Everything back: the same loads succeed. */
	bdm_release(p, &hold);
	CHECK_EQ(bdm_in_use(d), base);
	load_ok(t, m, buf, LEN, 2);
	load_ok(t, mbig, buf, BIG, 3);

	/* WAITOK: blocks until another thread frees, then succeeds.  The
	 * memory freed is a large run, twice what the load needs (the pool's
	 * page allocator is a good fit, not an exact fit: a freed run of
	 * exactly the size asked for may sit in a bin it does not search). */
	REQUIRE(ccdma_pool_alloc(p, 2 * BIG, 0, &victim) == 0);
	bdm_exhaust(p, &hold);
	bdm_fill(buf, BIG, 4);
	REQUIRE(pthread_create(&th, NULL, freer, victim) == 0);
	t0 = bdm_now_ns();
	rc = ccdma_bus_dmamap_load(t, mbig, buf, BIG, NULL, CCDMA_BUS_DMA_WAITOK);
	dt = bdm_now_ns() - t0;
	REQUIRE(pthread_join(th, NULL) == 0);
	CHECK_EQ(rc, 0);
	CHECK(dt >= 50 * 1000000ull);  /* it did wait for the free */
	CHECK(dt < 900 * 1000000ull);  /* and did not sit out the bound */
	CHECK(bdm_stats(d).waits >= 1);
	if (rc == 0) {
		unsigned char *view = malloc(BIG);

		REQUIRE(view);
		CHECK_EQ(mbig->dm_mapsize, BIG);
		CHECK_EQ(ccdma_bus_dmamap_sync(t, mbig, 0, BIG,
					       CCDMA_BUS_DMASYNC_PREWRITE), 0);
		CHECK_EQ(bdm_dev_view(d, mbig, view), 0);
		CHECK(!memcmp(view, buf, BIG));
		CHECK_EQ(ccdma_bus_dmamap_sync(t, mbig, 0, BIG,
					       CCDMA_BUS_DMASYNC_POSTWRITE), 0);
		CHECK_EQ(ccdma_bus_dmamap_unload(t, mbig), 0);
		free(view);
	}

	/* WAITOK with nobody freeing: ENOMEM after the pool's bound (1 s),
	 * map unloaded, nothing held. */
	bdm_exhaust(p, &hold); /* what the freed run has left, too */
	base = bdm_in_use(d);
	ccdma_log_set_handler(quiet_log, NULL);
	t0 = bdm_now_ns();
	rc = ccdma_bus_dmamap_load(t, m, buf, LEN, NULL, CCDMA_BUS_DMA_WAITOK);
	dt = bdm_now_ns() - t0;
	ccdma_log_set_handler(NULL, NULL);
	CHECK_EQ(rc, ENOMEM);
	CHECK(dt >= 900 * 1000000ull);
	CHECK_EQ(m->dm_nsegs, 0);
	CHECK_EQ(bdm_in_use(d), base);
	bdm_release(p, &hold);
	load_ok(t, m, buf, LEN, 6);

	CHECK_EQ(bdm_in_use(d), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, m), 0);
	CHECK_EQ(ccdma_bus_dmamap_destroy(t, mbig), 0);
	CHECK_EQ(ccdma_bus_dma_tag_destroy(t), 0);
	CHECK_EQ(ccdma_dev_destroy(d), 0);
	free(buf);
	return test_done("busdma_nowait");
}
