/* No stale data: a CCDMA_POOL_ZERO allocation never shows bytes an earlier
 * owner wrote, and clears only what earlier owners may have written (the
 * dirty extent), small and large. */
#include "test.h"

static uint64_t zeroed(struct ccdma_pool *p)
{
	struct ccdma_pool_stats st;

	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	return st.zeroed_bytes;
}

static size_t nonzero(const unsigned char *b, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += b[i] != 0;
	return c;
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	unsigned char *a, *b;
	uint64_t z0;

	test_init();
	test_config(&cfg, "stale");
	cfg.initial_bytes = 4u << 20;
	cfg.region_size = 4u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);

	/* Fresh shared memory: nothing to clear. */
	REQUIRE(ccdma_pool_alloc(p, 4096, CCDMA_POOL_ZERO, (void **)&a) == 0);
	CHECK_EQ(zeroed(p), 0);
	CHECK_EQ(nonzero(a, 4096), 0);

	/* Earlier owner wrote everything: all of it is cleared. */
	memset(a, 0xaa, 4096);
	CHECK_EQ(ccdma_pool_free(p, a, SIZE_MAX), 0);
	z0 = zeroed(p);
	REQUIRE(ccdma_pool_alloc(p, 4096, CCDMA_POOL_ZERO, (void **)&b) == 0);
	CHECK(b == a); /* same slot, from this thread's cache */
	CHECK_EQ(nonzero(b, 4096), 0);
	CHECK_EQ(zeroed(p) - z0, 4096);

	/* Earlier owner wrote 300 bytes (a short transfer): only those. */
	memset(b, 0xbb, 300);
	CHECK_EQ(ccdma_pool_free(p, b, 300), 0);
	z0 = zeroed(p);
	REQUIRE(ccdma_pool_alloc(p, 4096, CCDMA_POOL_ZERO, (void **)&a) == 0);
	CHECK(a == b);
	CHECK_EQ(nonzero(a, 4096), 0);
	CHECK_EQ(zeroed(p) - z0, 300);

	/* Without ZERO the pool spends nothing (the caller will overwrite). */
	memset(a, 0xcc, 1000);
	CHECK_EQ(ccdma_pool_free(p, a, 1000), 0);
	z0 = zeroed(p);
	REQUIRE(ccdma_pool_alloc(p, 4096, 0, (void **)&b) == 0);
	CHECK_EQ(zeroed(p) - z0, 0);
	/* A later ZERO user of that slot still gets clean bytes: the dirty
	 * extent is remembered across owners. */
	CHECK_EQ(ccdma_pool_free(p, b, 0), 0);
	REQUIRE(ccdma_pool_alloc(p, 4096, CCDMA_POOL_ZERO, (void **)&a) == 0);
	CHECK(a == b);
	CHECK_EQ(nonzero(a, 4096), 0);
	CHECK_EQ(ccdma_pool_free(p, a, 0), 0);

	/* A smaller ZERO allocation in a dirty slot clears its window. */
	REQUIRE(ccdma_pool_alloc(p, 4096, 0, (void **)&a) == 0);
	memset(a, 0xdd, 4096);
	CHECK_EQ(ccdma_pool_free(p, a, 4096), 0);
	REQUIRE(ccdma_pool_alloc(p, 3900, CCDMA_POOL_ZERO, (void **)&b) == 0);
	CHECK(b == a);
	CHECK_EQ(nonzero(b, 3900), 0);
	CHECK_EQ(ccdma_pool_free(p, b, 0), 0);

	/* Large runs: dirty pages are tracked per page through coalescing. */
	REQUIRE(ccdma_pool_alloc(p, 1u << 20, 0, (void **)&a) == 0);
	memset(a, 0xee, 1u << 20);
	CHECK_EQ(ccdma_pool_free(p, a, 8192), 0); /* wrote two pages */
	z0 = zeroed(p);
	REQUIRE(ccdma_pool_alloc(p, 1u << 20, CCDMA_POOL_ZERO, (void **)&b) == 0);
	CHECK(b == a);
	CHECK_EQ(nonzero(b, 8192), 0);
	CHECK_EQ(zeroed(p) - z0, 8192 >= ccdma_page_size() ? 8192 : ccdma_page_size());
	CHECK_EQ(ccdma_pool_free(p, b, SIZE_MAX), 0);
	ccdma_pool_thread_flush(p);

	/* Dirty pages that become small slots stay dirty for ZERO users. */
	{
		void *s[64];
		int i, dirty_seen = 0;

		for (i = 0; i < 64; i++) {
			REQUIRE(ccdma_pool_alloc(p, 16384, CCDMA_POOL_ZERO, &s[i]) == 0);
			dirty_seen += nonzero(s[i], 16384) != 0;
		}
		CHECK_EQ(dirty_seen, 0);
		for (i = 0; i < 64; i++)
			CHECK_EQ(ccdma_pool_free(p, s[i], 0), 0);
	}
	ccdma_pool_destroy(p);

	/* SCRUB_ON_FREE: the bytes are gone at free time. */
	test_config(&cfg, "scrub");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER | CCDMA_POOL_F_SCRUB_ON_FREE;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	REQUIRE(ccdma_pool_alloc(p, 2048, 0, (void **)&a) == 0);
	memset(a, 0x77, 2048);
	CHECK_EQ(ccdma_pool_free(p, a, 2048), 0);
	CHECK_EQ(nonzero(a, 2048), 0); /* scrubbed in place */
	ccdma_pool_destroy(p);
	return test_done("pool_stale");
}
