/* SPDX-License-Identifier: MIT */
/*
 * Several devices sharing one pool (issue 14, section 4): two ccdma-devsim
 * back-ends (one with memory slots, one with SET_MEM_TABLE only) driven
 * through one bounce pool.  Each connection keeps its own listener on it:
 * the regions added after both connected are sent to both, the regions
 * the pool gives back are removed from both, every byte written through
 * either is read back and compared, before and after; a pool that may
 * need more regions than a back-end's table is refused (-ENOSPC).
 */
#include "e2e_util.h"

#define REGION (1u << 20)

/* The connection's memory table holds exactly the pool's regions. */
static void check_table(struct e2e *e, struct ccdma_pool *p)
{
	struct ccdma_vhost_region t[16];
	struct ccdma_pool_stats st;
	uint64_t base, size, bytes = 0;
	unsigned n, i;

	uint64_t t0 = blkjob_now_ns();

	/* The pool counts a region just before it tells the listeners:
	 * wait (60 s at most) for the table to catch up with the count. */
	do {
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		n = ccdma_vhost_regions(e->h, t, 16);
		if ((uint64_t)n == st.regions)
			break;
		usleep(1000);
	} while (blkjob_now_ns() - t0 < 60000000000ull);
	CHECK_EQ(ccdma_pool_get_range(p, &base, &size), 0);
	CHECK_EQ((uint64_t)n, st.regions);
	for (i = 0; i < n && i < 16; i++) {
		CHECK(t[i].user_addr >= base &&
		      t[i].user_addr + t[i].size <= base + size);
		bytes += t[i].size;
	}
	CHECK_EQ(bytes, st.shared_bytes);
}

static void info(struct e2e *e, struct ccdma_vhost_info *vi)
{
	ccdma_vhost_get_info(e->h, vi);
}

/* Since the snapshots a, b of both connections and s0 of the pool: the
 * pool added (or, `removed`, gave back) regions, and each connection was
 * told of every one. */
static bool both_told(struct e2e *e, const struct ccdma_vhost_info *a,
		      const struct ccdma_pool_stats *s0, struct ccdma_pool *p,
		      bool removed, bool report)
{
	struct ccdma_vhost_info now[2];
	struct ccdma_pool_stats st;
	uint64_t pool, told[2];
	bool ok;
	int k;

	if (ccdma_pool_get_stats(p, &st))
		return false;
	pool = removed ? st.region_shrinks - s0->region_shrinks :
			 st.region_grows - s0->region_grows;
	ok = pool > 0;
	for (k = 0; k < 2; k++) {
		info(&e[k], &now[k]);
		told[k] = removed ? now[k].regions_removed - a[k].regions_removed :
				    now[k].regions_added - a[k].regions_added;
		ok = ok && told[k] == pool;
		if (report && told[k] != pool)
			fprintf(stderr, "connection %d told of %llu of the pool's "
				"%llu region %s\n", k, (unsigned long long)told[k],
				(unsigned long long)pool,
				removed ? "removals" : "additions");
	}
	if (report && !pool)
		fprintf(stderr, "the pool %s no region\n",
			removed ? "gave back" : "added");
	return ok;
}

/* Wait (60 s at most: a shrink comes after the pool's idle_ms, and the
 * pool counts a change just before it tells the listeners) for
 * both_told(). */
static void wait_told(struct e2e *e, const struct ccdma_vhost_info *a,
		      const struct ccdma_pool_stats *s0, struct ccdma_pool *p,
		      bool removed)
{
	uint64_t t0 = blkjob_now_ns();

	while (!both_told(e, a, s0, p, removed, false) &&
	       blkjob_now_ns() - t0 < 60000000000ull)
		usleep(10000);
	CHECK(both_told(e, a, s0, p, removed, true));
}

int main(int argc, char **argv)
{
	static const char *const slots[] = { "--size", "128m", NULL };
	static const char *const table[] = { "--size", "128m", "--no-mem-slots",
					     NULL };
	struct ccdma_vhost_info v[2];
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats st, st0;
	struct ccdma_pool *p;
	struct backend ba, bb;
	struct e2e e[2];
	void *m[6];
	int i, n;

	test_init();
	backend_require("ccdma-devsim", argc > 2 ? argv[2] : NULL);
	REQUIRE(backend_start_devsim(&ba, argv[2], slots) == 0);
	REQUIRE(backend_start_devsim(&bb, argv[2], table) == 0);

	/* Too big for SET_MEM_TABLE's 8 regions: refused, nothing left. */
	test_config(&pc, "shared-big");
	pc.region_size = REGION;
	pc.max_bytes = 16u * REGION;
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	CHECK_EQ(e2e_open_pool(&e[1], bb.sock, CCDMA_MODE_CONFIDENTIAL, 0, p), -ENOSPC);
	ccdma_pool_destroy(p);

	/* At most 8 MiB (SET_MEM_TABLE's 8 regions of 1 MiB); grown only on demand, shrunk fast. */
	test_config(&pc, "shared");
	pc.region_size = REGION;
	pc.max_bytes = 8u * REGION;
	pc.initial_bytes = REGION;
	pc.low_watermark = 0;
	pc.high_watermark = 0;
	pc.idle_ms = 20;
	REQUIRE(ccdma_pool_create(&pc, &p) == 0);
	REQUIRE(e2e_open_pool(&e[0], ba.sock, CCDMA_MODE_CONFIDENTIAL, 0, p) == 0);
	REQUIRE(e2e_open_pool(&e[1], bb.sock, CCDMA_MODE_CONFIDENTIAL, 0, p) == 0);
	info(&e[0], &v[0]);
	info(&e[1], &v[1]);
	CHECK(v[0].mem_slots > 0);
	CHECK_EQ(v[1].mem_slots, 0);
	check_table(&e[0], p);
	check_table(&e[1], p);

	/* Regions added now, with both connected, go to both (the grower
	 * may make a region larger than region_size: counted, not sized). */
	info(&e[0], &v[0]);
	info(&e[1], &v[1]);
	CHECK_EQ(ccdma_pool_get_stats(p, &st0), 0);
	/* Whole-region allocations until the pool grows (the floor's region
	 * holds the rings: the first one already does). */
	for (n = 0; n < 6; n++) {
		REQUIRE(ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT, &m[n]) == 0);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		if (st.region_grows > st0.region_grows) {
			n++;
			break;
		}
	}
	wait_told(e, v, &st0, p, false);
	check_table(&e[0], p);
	check_table(&e[1], p);
	CHECK(e2e_rw_matrix(&e[0], false, 3, NULL) > 0);
	CHECK(e2e_rw_matrix(&e[1], false, 4, NULL) > 0);

	/* Freed, the regions go back to the floor: removed from both. */
	info(&e[0], &v[0]);
	info(&e[1], &v[1]);
	CHECK_EQ(ccdma_pool_get_stats(p, &st0), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, m[i], REGION), 0);
	wait_told(e, v, &st0, p, true);
	check_table(&e[0], p);
	check_table(&e[1], p);
	CHECK(e2e_rw_matrix(&e[0], false, 5, NULL) > 0);
	CHECK(e2e_rw_matrix(&e[1], false, 6, NULL) > 0);
	CHECK(!ccdma_vblk_broken(e[0].b) && !ccdma_vblk_broken(e[1].b));

	/* One closed: its listener gone, the other keeps working. */
	e2e_close(&e[0]);
	REQUIRE(ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT, &m[0]) == 0);
	REQUIRE(ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT, &m[1]) == 0);
	check_table(&e[1], p);
	CHECK(e2e_rw_matrix(&e[1], false, 7, NULL) > 0);
	CHECK_EQ(ccdma_pool_free(p, m[0], REGION), 0);
	CHECK_EQ(ccdma_pool_free(p, m[1], REGION), 0);
	e2e_close(&e[1]);
	ccdma_pool_destroy(p);
	CHECK_EQ(backend_stop(&ba), 0);
	CHECK_EQ(backend_stop(&bb), 0);
	return test_done("e2e_shared_pool");
}
