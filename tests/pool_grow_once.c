/* One waiting request, one region: the grower adds a region for an
 * allocation that waits, wakes it, and must not add another when the
 * woken waiter takes that region before the grower looks again (it did:
 * the pool_listeners test under qemu-s390x saw a fourth region come while
 * three were asked for).  Every allocation here takes a whole region, so
 * the regions must number the allocations exactly. */
#include "test.h"

#define N 24

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	void *m[N];
	int i;

	test_init();
	test_config(&cfg, "grow-once");
	cfg.region_size = 1u << 20;
	cfg.low_watermark = 0;          /* no growth ahead of demand */
	cfg.high_watermark = 64u << 20; /* and no shrinking */
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < N; i++) {
		REQUIRE(ccdma_pool_alloc(p, cfg.region_size, CCDMA_POOL_WAIT,
					 &m[i]) == 0);
		memset(m[i], i, cfg.region_size);
		test_grower_settle(p);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		/* The floor's region served the first. */
		CHECK_EQ(st.regions, (uint64_t)i + 1);
		CHECK_EQ(st.region_grows, (uint64_t)i + 1);
		CHECK_EQ(st.failures, 0);
	}
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_free(p, m[i], cfg.region_size), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_grow_once");
}
