/* SPDX-License-Identifier: MIT */
/*
 * The pool's defaults mean the same passed or implied, and a new pool is
 * never empty: its floor (initial_bytes in whole regions, at least one)
 * is made at creation and never given back.
 *   - a device whose pool config comes from ccdma_pool_config_init() with
 *     only `isolation` changed maps its first buffer NOWAIT (it used to
 *     get -ENOMEM: the initialised defaults said initial_bytes 0 while a
 *     NULL config made a region);
 *   - pool_cfg NULL and the initialised defaults give pools of the same
 *     size, and so do ccdma_pool_create(NULL) and the defaults passed;
 *   - initial_bytes is counted in whole regions, capped by max_bytes;
 *   - the grower shrinks an idle pool down to its floor and no further.
 */
#include <time.h>

#include "test.h"

static struct ccdma_pool_stats pstats(struct ccdma_pool *p)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(p, &st) == 0);
	return st;
}

/* A NOWAIT map of a private buffer, bounced in confidential mode. */
static void first_map(struct ccdma_dev *d, const char *what)
{
	static char buf[4096];
	ccdma_addr_t a = ccdma_map_single(d, buf, sizeof(buf), CCDMA_TO_DEVICE);
	int err = ccdma_mapping_error(d, a);

	if (err)
		fprintf(stderr, "%s: first NOWAIT map: %d\n", what, err);
	CHECK_EQ(err, 0);
	if (!err)
		CHECK_EQ(ccdma_unmap_single(d, a, sizeof(buf), CCDMA_TO_DEVICE), 0);
}

static void device_defaults(void)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config dc;
	struct ccdma_dev *passed, *implied;
	uint64_t a, b;

	ccdma_pool_config_init(&pc);
	pc.isolation = CCDMA_ISOLATION_PAGE; /* the one field a driver set */
	ccdma_dev_config_init(&dc);
	dc.name = "passed";
	dc.mode = CCDMA_MODE_CONFIDENTIAL;
	dc.pool_cfg = &pc;
	REQUIRE(ccdma_dev_create(&dc, &passed) == 0);
	first_map(passed, "pool_cfg from ccdma_pool_config_init");

	ccdma_dev_config_init(&dc);
	dc.name = "implied";
	dc.mode = CCDMA_MODE_CONFIDENTIAL;
	REQUIRE(ccdma_dev_create(&dc, &implied) == 0);
	first_map(implied, "pool_cfg NULL");

	a = pstats(ccdma_dev_pool(passed)).shared_bytes;
	b = pstats(ccdma_dev_pool(implied)).shared_bytes;
	ccdma_pool_config_init(&pc);
	CHECK_EQ(a, pc.region_size);
	CHECK_EQ(b, pc.region_size);
	CHECK_EQ(ccdma_dev_destroy(passed), 0);
	CHECK_EQ(ccdma_dev_destroy(implied), 0);
}

static void pool_defaults(void)
{
	struct ccdma_pool_config pc;
	struct ccdma_pool *p, *q;
	struct ccdma_pool_stats st;
	void *x, *y;

	ccdma_pool_config_init(&pc);
	CHECK_EQ(pc.initial_bytes, 0);
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	REQUIRE(ccdma_pool_create(NULL, &q) == 0);
	st = pstats(p);
	CHECK_EQ(st.regions, 1);
	CHECK_EQ(st.shared_bytes, pc.region_size);
	CHECK_EQ(pstats(q).shared_bytes, st.shared_bytes);
	/* Served at once: a small slot and a large run. */
	CHECK_EQ(ccdma_pool_alloc(p, 3000, CCDMA_POOL_NOWAIT, &x), 0);
	CHECK_EQ(ccdma_pool_alloc(q, 1u << 20, CCDMA_POOL_NOWAIT, &y), 0);
	CHECK_EQ(ccdma_pool_free(p, x, 3000), 0);
	CHECK_EQ(ccdma_pool_free(q, y, 1u << 20), 0);
	ccdma_pool_destroy(p);
	ccdma_pool_destroy(q);
}

/* initial_bytes in whole regions: 0 and 1 byte give one, region + 1
 * gives two; more than max_bytes holds is refused; just under it is
 * capped to the whole regions that fit. */
static void whole_regions(void)
{
	static const struct {
		size_t initial, max;
		uint64_t want;
	} c[] = {
		{ 0, 8u << 20, 1u << 20 },
		{ 1, 8u << 20, 1u << 20 },
		{ (1u << 20) + 1, 8u << 20, 2u << 20 },
		{ 3u << 20, 3u << 20, 3u << 20 },
		{ (3u << 20) - 1, (3u << 20) + 4096, 3u << 20 },
	};
	struct ccdma_pool_config pc;
	struct ccdma_pool *p;
	unsigned i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		test_config(&pc, "whole");
		pc.region_size = 1u << 20;
		pc.flags = CCDMA_POOL_F_NO_GROWER;
		pc.initial_bytes = c[i].initial;
		pc.max_bytes = c[i].max;
		REQUIRE(ccdma_pool_create(&pc, &p) == 0);
		if (pstats(p).shared_bytes != c[i].want)
			fprintf(stderr, "case %u: initial %zu, max %zu\n", i,
				c[i].initial, c[i].max);
		CHECK_EQ(pstats(p).shared_bytes, c[i].want);
		ccdma_pool_destroy(p);
	}
	test_config(&pc, "whole");
	pc.region_size = 1u << 20;
	pc.max_bytes = 2u << 20;
	pc.initial_bytes = (2u << 20) + 1;
	ccdma_log_set_handler(quiet_log, NULL);
	CHECK_EQ(ccdma_pool_create(&pc, &p), -EINVAL);
	ccdma_log_set_handler(NULL, NULL);
}

/* Wait (bounded) until the grower has made two passes since `from`: one
 * whole pass then ran after the moment `from` was read. */
static bool two_passes(struct ccdma_pool *p, uint64_t from)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	int i;

	for (i = 0; i < 12000; i++) {
		if (pstats(p).grower_passes >= from + 2)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Grown to three regions, then idle with nothing to keep: the grower
 * gives back everything above the floor of one region, and no more. */
static void floor_kept(void)
{
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	void *a[3];
	unsigned i;

	test_config(&pc, "floor");
	pc.region_size = 1u << 20;
	pc.max_bytes = 8u << 20;
	pc.low_watermark = 0;
	pc.high_watermark = 0;
	pc.idle_ms = 0;
	pc.initial_bytes = pc.region_size;
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	/* Whole-region runs: each takes a region of its own. */
	for (i = 0; i < 3; i++) {
		struct ccdma_pool_req r = { .size = 1u << 20,
					    .flags = CCDMA_POOL_WAIT,
					    .timeout_ns = 60000000000ull };

		REQUIRE(ccdma_pool_alloc_req(p, &r, &a[i]) == 0);
	}
	st = pstats(p);
	CHECK(st.regions >= 3);
	for (i = 0; i < 3; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	/* Everything is free and idle from here on. */
	REQUIRE(two_passes(p, pstats(p).grower_passes));
	st = pstats(p);
	CHECK(st.region_shrinks >= 2);
	CHECK_EQ(st.regions, 1);
	CHECK_EQ(st.shared_bytes, pc.region_size);
	CHECK_EQ(ccdma_pool_alloc(p, 1u << 20, CCDMA_POOL_NOWAIT, &a[0]), 0);
	CHECK_EQ(ccdma_pool_free(p, a[0], 0), 0);
	ccdma_pool_destroy(p);
}

int main(void)
{
	test_init();
	device_defaults();
	pool_defaults();
	whole_regions();
	floor_kept();
	return test_done("dma_pool_defaults");
}
