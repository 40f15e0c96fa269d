/* Stats stay consistent while several threads allocate and free, and add
 * up exactly once they are quiet: allocs - frees = in use, per class and in
 * total; carved slots = in use + free; bytes in use <= shared bytes. */
#include <pthread.h>

#include <ccdma/hosted.h>

#include "test.h"

static struct ccdma_pool *p;

#define T 3
#define PER 2000
#define KEEP 50

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 7919 + 1;
	void *live[KEEP] = { 0 };
	int i, k;

	for (i = 0; i < PER; i++) {
		k = (int)(xorshift(&seed) % KEEP);
		if (live[k])
			CHECK_EQ(ccdma_pool_free(p, live[k], 16), 0);
		live[k] = NULL;
		CHECK_EQ(ccdma_pool_alloc(p, 1 + xorshift(&seed) % 9000,
					  CCDMA_POOL_WAIT, &live[k]), 0);
	}
	/* Leave half of them live for the main thread to check. */
	for (k = 0; k < KEEP / 2; k++)
		if (live[k])
			CHECK_EQ(ccdma_pool_free(p, live[k], 0), 0);
	return NULL;
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	pthread_t t[T];
	uint64_t live_expect = 0, sum_allocs = 0, sum_frees = 0, sum_inuse = 0;
	unsigned ci;
	int i;

	test_init();
	test_config(&cfg, "stats");
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	for (i = 0; i < T; i++)
		REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1)) == 0);
	/* Snapshots while they run: never inconsistent in an absurd way. */
	for (i = 0; i < 50; i++) {
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		CHECK(st.in_use_bytes <= st.shared_bytes);
		CHECK(st.allocs + 64 * T >= st.frees);
	}
	for (i = 0; i < T; i++)
		pthread_join(t[i], NULL);
	live_expect = (uint64_t)T * (KEEP - KEEP / 2);

	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	for (ci = 0; ci < st.nclasses; ci++) {
		const struct ccdma_pool_class_stats *c = &st.classes[ci];

		CHECK_EQ(c->size, ccdma_pool_class_size(ci));
		CHECK_EQ(c->allocs - c->frees, c->in_use);
		CHECK(c->high_water >= c->in_use);
		sum_allocs += c->allocs;
		sum_frees += c->frees;
		sum_inuse += c->in_use;
	}
	CHECK_EQ(sum_allocs, st.allocs);
	CHECK_EQ(sum_frees, st.frees);
	CHECK_EQ(st.allocs, (uint64_t)T * PER);
	CHECK_EQ(sum_inuse, live_expect);
	CHECK_EQ(st.failures, 0);
	CHECK(st.in_use_bytes <= st.shared_bytes);
	CHECK(st.shared_bytes <= st.shared_high_water);
	CHECK(st.free_bytes <= st.shared_bytes);
	CHECK_EQ(st.regions, st.region_grows - st.region_shrinks);
	ccdma_pool_print_stats(&st, stdout);
	ccdma_pool_destroy(p); /* reports the live ones as leaked */
	return test_done("pool_stats");
}
