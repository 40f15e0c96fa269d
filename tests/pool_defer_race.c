/* SPDX-License-Identifier: MIT */
/*
 * Deferred requests: a slot freed while the pool's thread is running the
 * deferred callbacks is not lost.
 *
 * A free normally stays in the freeing thread's cache; it is made visible
 * to other threads only when somebody is waiting.  While the grower runs
 * the deferred callbacks it has taken them off the list, so the list is
 * empty at that moment, but the callbacks are still waiting: a free in
 * that window must count as one with a waiter.  Here the callback, on its
 * first run, holds the window open until this thread has freed a slot,
 * then allocates: the allocation must get that slot.  (Were the free kept
 * in this thread's cache, the callback would register again and nothing
 * would ever wake it: the same hang as a deferred bus_dma load that never
 * completes.)
 */
#include <pthread.h>

#include "test.h"

#define SZ 4096

static struct ccdma_pool *p;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int runs, phase, failed_allocs;
static void *first, *second;
static struct ccdma_pool_waiter w;

/* Wait under mu until *v reaches want, at most a minute (an event; the
 * bound only turns a hang into a failure). */
static bool wait_for(int *v, int want)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 60;
	while (*v < want)
		if (pthread_cond_timedwait(&cv, &mu, &ts))
			return *v >= want;
	return true;
}

static void set(int *v, int val)
{
	pthread_mutex_lock(&mu);
	*v = val;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void cb(void *arg)
{
	void *x = NULL;
	int run;

	(void)arg;
	pthread_mutex_lock(&mu);
	run = ++runs;
	pthread_mutex_unlock(&mu);
	if (run == 1) {
		/* Memory came back (the main thread freed one slot): take it,
		 * then keep the window open until the main thread has freed
		 * another. */
		if (ccdma_pool_alloc(p, SZ, 0, &first))
			first = NULL;
		set(&phase, 1);
		pthread_mutex_lock(&mu);
		wait_for(&phase, 2);
		pthread_mutex_unlock(&mu);
	}
	if (ccdma_pool_alloc(p, SZ, 0, &x) == 0) {
		pthread_mutex_lock(&mu);
		second = x;
		phase = 3;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		return;
	}
	pthread_mutex_lock(&mu);
	failed_allocs++;
	pthread_mutex_unlock(&mu);
	ccdma_pool_defer(p, &w);  /* wait for the next free */
}

int main(void)
{
	struct ccdma_pool_config cfg;
	void **fill, *small, *x;
	size_t n = 0, i, cap;

	test_init();
	test_config(&cfg, "defer-race");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	cap = cfg.initial_bytes / SZ + 1;
	fill = calloc(cap, sizeof(*fill));
	REQUIRE(fill);
	REQUIRE(ccdma_pool_alloc(p, SZ, 0, &small) == 0);
	while (n < cap && ccdma_pool_alloc(p, SZ, 0, &fill[n]) == 0)
		n++;
	REQUIRE(n > 0 && n < cap);
	CHECK_EQ(ccdma_pool_alloc(p, SZ, 0, &x), -ENOMEM);

	w.fn = cb;
	w.size = SZ;
	CHECK_EQ(ccdma_pool_defer(p, &w), 0);
	/* One slot back: the grower runs the callback, which takes it. */
	CHECK_EQ(ccdma_pool_free(p, fill[--n], 0), 0);
	pthread_mutex_lock(&mu);
	CHECK(wait_for(&phase, 1));
	pthread_mutex_unlock(&mu);
	CHECK(first != NULL);
	/* The callback is running and off the list: free another slot. */
	CHECK_EQ(ccdma_pool_free(p, small, 0), 0);
	set(&phase, 2);
	pthread_mutex_lock(&mu);
	CHECK(wait_for(&phase, 3));
	CHECK_EQ(failed_allocs, 0);
	CHECK_EQ(runs, 1);
	pthread_mutex_unlock(&mu);
	CHECK(second != NULL);

	if (second)
		CHECK_EQ(ccdma_pool_free(p, second, 0), 0);
	else
		ccdma_pool_defer_cancel(p, &w);
	if (first)
		CHECK_EQ(ccdma_pool_free(p, first, 0), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, fill[i], 0), 0);
	free(fill);
	ccdma_pool_destroy(p);
	return test_done("pool_defer_race");
}
