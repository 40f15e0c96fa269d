/* Allocate and free in every class, write every byte, check the memory is
 * in the pool and that freed slots are reused. */
#include <ccdma/hosted.h>

#include "test.h"

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	struct ccdma_pool_stats st;
	void *a[CCDMA_POOL_NCLASSES];
	unsigned ci;

	test_init();
	test_config(&cfg, "basic");
	cfg.initial_bytes = 32u << 20;
	cfg.region_size = 4u << 20;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (ci = 0; ci < CCDMA_POOL_NCLASSES; ci++) {
		size_t sz = ccdma_pool_class_size(ci);

		a[ci] = NULL;
		if (sz > (8u << 20))
			break;
		CHECK_EQ(ccdma_pool_alloc(p, sz, CCDMA_POOL_WAIT, &a[ci]), 0);
		if (!a[ci])
			continue;
		CHECK(ccdma_pool_contains(p, a[ci], sz));
		memset(a[ci], (int)ci + 1, sz);
	}
	for (ci = 0; ci < CCDMA_POOL_NCLASSES && a[ci]; ci++) {
		size_t sz = ccdma_pool_class_size(ci), i;
		unsigned char *b = a[ci];
		int bad = 0;

		for (i = 0; i < sz; i++)
			bad += b[i] != (unsigned char)(ci + 1);
		CHECK_EQ(bad, 0);
		CHECK_EQ(ccdma_pool_free(p, a[ci], sz), 0);
	}
	/* A freed small slot comes back to the same thread first (LIFO cache). */
	{
		void *x, *y;

		CHECK_EQ(ccdma_pool_alloc(p, 1000, 0, &x), 0);
		CHECK_EQ(ccdma_pool_free(p, x, 0), 0);
		CHECK_EQ(ccdma_pool_alloc(p, 1000, 0, &y), 0);
		CHECK(x == y);
		CHECK_EQ(ccdma_pool_free(p, y, 0), 0);
	}
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK_EQ(st.in_use_bytes, 0);
	CHECK_EQ(st.failures, 0);
	ccdma_pool_print_stats(&st, stdout);
	ccdma_pool_destroy(p);
	return test_done("pool_basic");
}
