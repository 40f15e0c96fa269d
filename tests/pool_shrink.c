/* Shrink after idle: once allocations are gone and the pool holds more
 * free memory than the high watermark, wholly free regions are destroyed
 * after idle_ms (devices told first), down to the watermark. */
#include <pthread.h>
#include <unistd.h>

#include "test.h"

static int removes;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void listener(void *arg, bool added, int fd, void *addr, size_t size,
		     uint64_t off)
{
	(void)arg;
	(void)fd;
	(void)size;
	(void)off;
	if (!added) {
		/* Told before the memory goes: it is still mapped. */
		volatile unsigned char *b = addr;

		(void)b[0];
		pthread_mutex_lock(&mu);
		removes++;
		pthread_mutex_unlock(&mu);
	}
}

#define N 300

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	void *a[N];
	uint64_t peak;
	int i, tries;

	test_init();
	test_config(&cfg, "shrink");
	cfg.region_size = 1u << 20;
	cfg.low_watermark = 512u << 10;
	cfg.high_watermark = 2u << 20;
	cfg.idle_ms = 100;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	ccdma_pool_set_region_listener(p, listener, NULL);
	for (i = 0; i < N; i++) {
		/* mix of large runs and small slots */
		size_t sz = i % 2 ? 50000 : 2000;

		CHECK_EQ(ccdma_pool_alloc(p, sz, CCDMA_POOL_WAIT, &a[i]), 0);
	}
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	peak = st.shared_bytes;
	CHECK(peak >= 8u << 20);
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	ccdma_pool_thread_flush(p); /* this thread's cached slots go back */

	for (tries = 0; tries < 300; tries++) {
		usleep(20000);
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		if (st.shared_bytes <= cfg.high_watermark + cfg.region_size)
			break;
	}
	/* Let it settle (no shrink for 4 idle periods), then compare. */
	{
		uint64_t last = UINT64_MAX;

		for (tries = 0; tries < 50; tries++) {
			CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
			if (st.region_shrinks == last)
				break;
			last = st.region_shrinks;
			usleep(4 * cfg.idle_ms * 1000);
		}
	}
	CHECK(st.region_shrinks > 0);
	CHECK(st.shared_bytes <= cfg.high_watermark + cfg.region_size);
	CHECK(st.shared_bytes >= cfg.low_watermark);
	CHECK(st.shared_high_water == peak);
	pthread_mutex_lock(&mu);
	CHECK_EQ((uint64_t)removes, st.region_shrinks);
	pthread_mutex_unlock(&mu);
	/* Spans of small classes went back as well. */
	CHECK(st.classes[ccdma_pool_class_of(2000)].shrinks > 0);
	/* The pool still works and can grow again. */
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_alloc(p, 50000, CCDMA_POOL_WAIT, &a[i]), 0);
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 0), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_shrink");
}
