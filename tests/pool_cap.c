/* The hard cap: shared memory never exceeds max_bytes; beyond it WAIT
 * allocations time out with -ENOMEM and nothing grows. */
#include "test.h"

#define N 200

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	void *a[N];
	int n = 0, i;
	uint64_t bytes = 0;
	/* What each allocation takes: whole pages. */
	size_t ps = ccdma_page_size(), take = (60000 + ps - 1) / ps * ps;

	test_init();
	test_config(&cfg, "cap");
	cfg.region_size = 1u << 20;
	cfg.max_bytes = 4u << 20;
	cfg.low_watermark = 1u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < N; i++) {
		struct ccdma_pool_req r = { .size = 60000, .flags = CCDMA_POOL_WAIT,
					    .timeout_ns = 300000000ull };

		if (ccdma_pool_alloc_req(p, &r, &a[n]) != 0)
			break;
		bytes += take;
		n++;
	}
	CHECK(i < N);
	CHECK(bytes <= cfg.max_bytes);
	CHECK(bytes >= cfg.max_bytes - 2 * take); /* it did fill up */
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK(st.shared_high_water <= cfg.max_bytes);
	CHECK_EQ(st.shared_bytes, cfg.max_bytes);
	CHECK(st.failures >= 1);
	/* A request larger than the cap can never be served. */
	{
		void *x;
		struct ccdma_pool_req r = { .size = 8u << 20, .flags = CCDMA_POOL_WAIT,
					    .timeout_ns = 100000000ull };

		CHECK_EQ(ccdma_pool_alloc_req(p, &r, &x), -ENOMEM);
	}
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK(st.shared_high_water <= cfg.max_bytes);
	ccdma_pool_destroy(p);
	return test_done("pool_cap");
}
