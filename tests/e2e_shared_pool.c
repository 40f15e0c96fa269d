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

static int open_shared(struct e2e *e, const char *sock, struct ccdma_pool *p)
{
	struct ccdma_vhost_config c;
	struct ccdma_vblk_config vc;
	int rc;

	memset(e, 0, sizeof(*e));
	ccdma_vhost_config_init(&c);
	c.socket_path = sock;
	c.mode = (int)CCDMA_MODE_CONFIDENTIAL;
	c.pool = p;
	rc = ccdma_vhost_connect(&c, &e->h);
	if (rc)
		return rc;
	ccdma_vblk_config_init(&vc);
	rc = ccdma_vblk_create(ccdma_vhost_transport(e->h), &vc, &e->b);
	if (rc) {
		ccdma_vhost_close(e->h);
		return rc;
	}
	ccdma_vblk_get_info(e->b, &e->info);
	return 0;
}

/* The connection's memory table holds exactly the pool's regions. */
static void check_table(struct e2e *e, struct ccdma_pool *p)
{
	struct ccdma_vhost_region t[16];
	struct ccdma_pool_stats st;
	uint64_t base, size, bytes = 0;
	unsigned n, i;

	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(ccdma_pool_get_range(p, &base, &size), 0);
	n = ccdma_vhost_regions(e->h, t, 16);
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

int main(int argc, char **argv)
{
	static const char *const slots[] = { "--size", "128m", NULL };
	static const char *const table[] = { "--size", "128m", "--no-mem-slots",
					     NULL };
	struct ccdma_vhost_info a0, b0, a1, b1;
	struct ccdma_pool_config pc;
	struct ccdma_pool_stats st, st0;
	struct ccdma_pool *p;
	struct backend ba, bb;
	struct e2e ea, eb;
	void *m[6];
	uint64_t t0;
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
	CHECK_EQ(open_shared(&eb, bb.sock, p), -ENOSPC);
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
	REQUIRE(open_shared(&ea, ba.sock, p) == 0);
	REQUIRE(open_shared(&eb, bb.sock, p) == 0);
	info(&ea, &a0);
	info(&eb, &b0);
	CHECK(a0.mem_slots > 0);
	CHECK_EQ(b0.mem_slots, 0);
	check_table(&ea, p);
	check_table(&eb, p);

	/* Regions added now, with both connected, go to both (the grower
	 * may make a region larger than region_size: counted, not sized). */
	info(&ea, &a0);
	info(&eb, &b0);
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
	info(&ea, &a1);
	info(&eb, &b1);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK(st.region_grows > st0.region_grows);
	CHECK_EQ(a1.regions_added - a0.regions_added,
		 st.region_grows - st0.region_grows);
	CHECK_EQ(b1.regions_added - b0.regions_added,
		 st.region_grows - st0.region_grows);
	check_table(&ea, p);
	check_table(&eb, p);
	CHECK(e2e_rw_matrix(&ea, false, 3, NULL) > 0);
	CHECK(e2e_rw_matrix(&eb, false, 4, NULL) > 0);

	/* Freed, the regions go back to the floor: removed from both. */
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, m[i], REGION), 0);
	st0 = st;
	/* Wait (60 s at most) until the pool has given a region back and
	 * both connections have been told of every removal so far (the pool
	 * counts a removal just before it tells the listeners). */
	t0 = blkjob_now_ns();
	for (;;) {
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		info(&ea, &a0);
		info(&eb, &b0);
		if (st.region_shrinks > st0.region_shrinks &&
		    a0.regions_removed - a1.regions_removed ==
			    st.region_shrinks - st0.region_shrinks &&
		    b0.regions_removed - b1.regions_removed ==
			    st.region_shrinks - st0.region_shrinks)
			break;
		if (blkjob_now_ns() - t0 > 60000000000ull)
			break;
		usleep(10000);
	}
	CHECK(st.region_shrinks > st0.region_shrinks);
	CHECK_EQ(a0.regions_removed - a1.regions_removed,
		 st.region_shrinks - st0.region_shrinks);
	CHECK_EQ(b0.regions_removed - b1.regions_removed,
		 st.region_shrinks - st0.region_shrinks);
	check_table(&ea, p);
	check_table(&eb, p);
	CHECK(e2e_rw_matrix(&ea, false, 5, NULL) > 0);
	CHECK(e2e_rw_matrix(&eb, false, 6, NULL) > 0);
	CHECK(!ccdma_vblk_broken(ea.b) && !ccdma_vblk_broken(eb.b));

	/* One closed: its listener gone, the other keeps working. */
	e2e_close(&ea);
	REQUIRE(ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT, &m[0]) == 0);
	REQUIRE(ccdma_pool_alloc(p, REGION, CCDMA_POOL_WAIT, &m[1]) == 0);
	check_table(&eb, p);
	CHECK(e2e_rw_matrix(&eb, false, 7, NULL) > 0);
	CHECK_EQ(ccdma_pool_free(p, m[0], REGION), 0);
	CHECK_EQ(ccdma_pool_free(p, m[1], REGION), 0);
	e2e_close(&eb);
	ccdma_pool_destroy(p);
	CHECK_EQ(backend_stop(&ba), 0);
	CHECK_EQ(backend_stop(&bb), 0);
	return test_done("e2e_shared_pool");
}
