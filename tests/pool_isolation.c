/* Isolation "page": no two live allocations share a CPU page, at any size,
 * with alignment and min_align_mask; "dense" packs small slots. */
#include "test.h"

#define N 600

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	size_t ps = ccdma_page_size();
	uintptr_t lo[N], hi[N];
	void *a[N];
	uint64_t seed = 42;
	int i, j, clashes = 0;

	test_init();
	test_config(&cfg, "iso");
	cfg.isolation = CCDMA_ISOLATION_PAGE;
	cfg.initial_bytes = 16u << 20;
	cfg.region_size = 4u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < N; i++) {
		size_t sz = 1 + xorshift(&seed) % (i % 10 == 0 ? 40000 : 3000);
		struct ccdma_pool_req r = { .size = sz, .flags = CCDMA_POOL_WAIT,
					    .timeout_ns = 2000000000ull };

		if (i % 7 == 0) {
			r.min_align_mask = 0xfff;
			r.orig = xorshift(&seed) & 0xffff;
		}
		CHECK_EQ(ccdma_pool_alloc_req(p, &r, &a[i]), 0);
		lo[i] = (uintptr_t)a[i] & ~(ps - 1);
		hi[i] = ((uintptr_t)a[i] + sz - 1) & ~(ps - 1);
		/* The allocation owns its pages entirely. */
		{
			struct ccdma_pool_addr_info info;

			CHECK_EQ(ccdma_pool_lookup(p, a[i], &info), 0);
			CHECK_EQ(((uintptr_t)info.alloc_addr + info.alloc_size) % ps, 0);
		}
	}
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			if (lo[i] <= hi[j] && lo[j] <= hi[i])
				clashes++;
	CHECK_EQ(clashes, 0);
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	ccdma_pool_destroy(p);

	/* Dense: small allocations do share pages (that is the point). */
	test_config(&cfg, "dense");
	cfg.initial_bytes = 1u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	{
		void *x, *y;

		REQUIRE(ccdma_pool_alloc(p, 256, 0, &x) == 0);
		REQUIRE(ccdma_pool_alloc(p, 256, 0, &y) == 0);
		CHECK(((uintptr_t)x & ~(ps - 1)) == ((uintptr_t)y & ~(ps - 1)));
		ccdma_pool_free(p, x, 0);
		ccdma_pool_free(p, y, 0);
	}
	ccdma_pool_destroy(p);
	return test_done("pool_isolation");
}
