/* Bad arguments return -EINVAL and never crash; nothing is lost. */
#include <ccdma/hosted.h>

#include "test.h"

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_req req;
	struct ccdma_pool_addr_info info;
	struct ccdma_pool *p;
	struct ccdma_pool_stats st;
	void *a = (void *)0x1234, *live;
	char priv[64];

	test_init();
	ccdma_log_set_handler(quiet_log, NULL);
	test_config(&cfg, "badargs");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	REQUIRE(ccdma_pool_alloc(p, 100, 0, &live) == 0);

	/* NULL pool, NULL out, size 0, size too large */
	CHECK_EQ(ccdma_pool_alloc(NULL, 100, 0, &a), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc(p, 100, 0, NULL), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc(p, 0, 0, &a), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc(p, (size_t)CCDMA_POOL_MAX_ALLOC + 1, 0, &a), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc(p, SIZE_MAX, 0, &a), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc(p, 100, 0x80, &a), -EINVAL); /* unknown flag */
	CHECK(a == (void *)0x1234); /* untouched on error */

	memset(&req, 0, sizeof(req));
	req.size = 512;
	CHECK_EQ(ccdma_pool_alloc_req(NULL, &req, &a), -EINVAL);
	CHECK_EQ(ccdma_pool_alloc_req(p, NULL, &a), -EINVAL);
	req.min_align_mask = 0x1000; /* not 2^n-1 */
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	req.min_align_mask = 0x17ff;
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	req.min_align_mask = 0;
	req.align = 3; /* not a power of two */
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	req.align = (size_t)1 << 40; /* beyond any region */
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	/* contradictory: orig offset under the mask not aligned */
	req.align = 4096;
	req.min_align_mask = 0xfff;
	req.orig = 0x10;
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	/* offset under the mask pushes past the largest allocation */
	req.align = 0;
	req.min_align_mask = 0xfffff;
	req.orig = 0xff000;
	req.size = CCDMA_POOL_MAX_ALLOC;
	CHECK_EQ(ccdma_pool_alloc_req(p, &req, &a), -EINVAL);
	CHECK(a == (void *)0x1234);

	/* Frees: NULL pool, foreign pointers, interior pointers, double free. */
	CHECK_EQ(ccdma_pool_free(NULL, live, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, NULL, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, priv, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, (char *)live + 1, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, (void *)UINTPTR_MAX, 0), -EINVAL);
	CHECK_EQ(ccdma_pool_free(p, live, 0), 0);
	CHECK_EQ(ccdma_pool_free(p, live, 0), -EINVAL); /* double free */
	{
		void *big;

		REQUIRE(ccdma_pool_alloc(p, 100000, 0, &big) == 0);
		CHECK_EQ(ccdma_pool_free(p, (char *)big + 4096, 0), -EINVAL);
		CHECK_EQ(ccdma_pool_free(p, big, 0), 0);
		CHECK_EQ(ccdma_pool_free(p, big, 0), -EINVAL);
	}

	/* Lookups of non-live memory. */
	CHECK_EQ(ccdma_pool_lookup(p, priv, &info), -EINVAL);
	CHECK_EQ(ccdma_pool_lookup(p, live, &info), -EINVAL); /* freed */
	CHECK_EQ(ccdma_pool_lookup(NULL, live, &info), -EINVAL);
	CHECK_EQ(ccdma_pool_lookup(p, live, NULL), -EINVAL);
	CHECK(!ccdma_pool_contains(p, priv, 1));
	CHECK(!ccdma_pool_contains(NULL, live, 1));
	CHECK(ccdma_pool_offset_to_addr(p, UINT64_MAX, 1) == NULL);

	/* Stats and other entry points with NULL. */
	CHECK_EQ(ccdma_pool_get_stats(NULL, &st), -EINVAL);
	CHECK_EQ(ccdma_pool_get_stats(p, NULL), -EINVAL);
	CHECK_EQ(ccdma_pool_defer(NULL, NULL), -EINVAL);
	CHECK_EQ(ccdma_pool_defer(p, NULL), -EINVAL);
	ccdma_pool_thread_flush(NULL);
	ccdma_pool_print_stats(NULL, stdout);
	ccdma_pool_destroy(NULL);

	/* Nothing was lost: the pool still balances. */
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK_EQ(st.in_use_bytes, 0);
	ccdma_pool_destroy(p);

	/* Bad configurations. */
	{
		struct ccdma_pool *q = NULL;

		test_config(&cfg, "badcfg");
		cfg.region_size = 3u << 20;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		test_config(&cfg, "badcfg");
		cfg.region_size = 4096;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		test_config(&cfg, "badcfg");
		cfg.initial_bytes = cfg.max_bytes + 1;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		test_config(&cfg, "badcfg");
		cfg.high_watermark = cfg.low_watermark - 1;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		test_config(&cfg, "badcfg");
		cfg.isolation = (enum ccdma_isolation)9;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		test_config(&cfg, "badcfg");
		cfg.flags = 0x100;
		CHECK_EQ(ccdma_pool_create(&cfg, &q), -EINVAL);
		CHECK_EQ(ccdma_pool_create(NULL, NULL), -EINVAL);
		CHECK(q == NULL);
	}
	return test_done("pool_badargs");
}
