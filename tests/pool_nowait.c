/* NOWAIT on an exhausted pool fails at once with -ENOMEM (no spinning, no
 * growth on the caller's thread), counts a failure, and works again after
 * a free. */
#include "test.h"

#define MAXN 4096

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	static void *a[MAXN];
	int n = 0, i;
	void *x;

	test_init();
	test_config(&cfg, "nowait");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	while (n < MAXN && ccdma_pool_alloc(p, 4096, CCDMA_POOL_NOWAIT, &a[n]) == 0)
		n++;
	/* 1 MiB of 4 KiB slots, minus what the calling thread caches. */
	CHECK(n >= 240 && n <= 256);
	for (i = 0; i < 1000; i++)
		CHECK_EQ(ccdma_pool_alloc(p, 4096, CCDMA_POOL_NOWAIT, &x), -ENOMEM);
	CHECK_EQ(ccdma_pool_alloc(p, 100000, CCDMA_POOL_NOWAIT, &x), -ENOMEM);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.failures, 1002); /* the one that ended the fill loop, too */
	CHECK_EQ(st.classes[ccdma_pool_class_of(4096)].failures, 1001);
	CHECK_EQ(st.shared_bytes, 1u << 20); /* never grew */
	CHECK_EQ(st.waits, 0);
	/* A free makes room again. */
	CHECK_EQ(ccdma_pool_free(p, a[--n], 4096), 0);
	CHECK_EQ(ccdma_pool_alloc(p, 4096, CCDMA_POOL_NOWAIT, &x), 0);
	CHECK(x == a[n]);
	a[n++] = x;
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_nowait");
}
