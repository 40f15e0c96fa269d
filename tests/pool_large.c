/* Large allocations are cut to the page from the regions and coalesce on
 * free: after a random alloc/free run the whole region is one run again,
 * and no two live allocations overlap. */
#include "test.h"

#define N 256

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	unsigned char *a[N] = { 0 };
	size_t sz[N] = { 0 };
	uint64_t seed = 7;
	int step, i, j, overlaps = 0, bad = 0;
	void *whole;

	test_init();
	test_config(&cfg, "large");
	cfg.region_size = 16u << 20;
	cfg.max_bytes = 16u << 20;
	cfg.initial_bytes = 16u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (step = 0; step < 20000; step++) {
		i = (int)(xorshift(&seed) % N);
		if (a[i]) {
			for (j = 0; j < 3; j++)
				bad += a[i][xorshift(&seed) % sz[i]] != (unsigned char)i;
			CHECK_EQ(ccdma_pool_free(p, a[i], sz[i]), 0);
			a[i] = NULL;
		} else {
			sz[i] = 32769 + xorshift(&seed) % 200000;
			if (ccdma_pool_alloc(p, sz[i], 0, (void **)&a[i]) == 0)
				memset(a[i], i, sz[i]);
			else
				a[i] = NULL;
		}
	}
	CHECK_EQ(bad, 0);
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			if (a[i] && a[j] && a[i] < a[j] + sz[j] && a[j] < a[i] + sz[i])
				overlaps++;
	CHECK_EQ(overlaps, 0);
	for (i = 0; i < N; i++)
		if (a[i])
			CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.free_bytes, 16u << 20); /* everything coalesced back */
	CHECK_EQ(st.in_use_bytes, 0);
	/* ...so the largest allocation fits in one piece. */
	CHECK_EQ(ccdma_pool_alloc(p, 16u << 20, 0, &whole), 0);
	CHECK_EQ(ccdma_pool_free(p, whole, 0), 0);
	/* Large classes are stats bins, the memory is cut to the page. */
	{
		void *x;
		int ci = ccdma_pool_class_of(40000);

		CHECK_EQ(ccdma_pool_alloc(p, 40000, 0, &x), 0);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		CHECK_EQ(st.classes[ci].in_use, 1);
		CHECK_EQ(st.classes[ci].shared_bytes,
			 (40000 + ccdma_page_size() - 1) / ccdma_page_size() * ccdma_page_size());
		CHECK_EQ(ccdma_pool_free(p, x, 0), 0);
	}
	ccdma_pool_destroy(p);
	return test_done("pool_large");
}
