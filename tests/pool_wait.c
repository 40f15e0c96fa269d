/* WAIT blocks (it does not spin) until another thread frees memory, and
 * gives up with -ENOMEM once its bound has passed. */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

static struct ccdma_pool *p;
static void *victim;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *freer(void *arg)
{
	(void)arg;
	usleep(100 * 1000);
	CHECK_EQ(ccdma_pool_free(p, victim, 0), 0);
	return NULL;
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool_req r = { .size = 100000, .flags = CCDMA_POOL_WAIT };
	pthread_t t;
	void *x = NULL, *fill[64];
	size_t ps = ccdma_page_size();
	int n = 0, i;
	uint64_t t0, dt;

	test_init();
	test_config(&cfg, "wait");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	/* Fill with large allocations (no thread caches involved): with
	 * 4 KiB pages 25 pages each of 256, with 64 KiB pages 2 of 16. */
	while (n < 64 && ccdma_pool_alloc(p, 100000, 0, &fill[n]) == 0)
		n++;
	CHECK_EQ(n, (1u << 20) / ps / ((100000 + ps - 1) / ps));
	victim = fill[--n];

	/* Bounded wait that nobody ends: -ENOMEM after about the bound. */
	r.timeout_ns = 200 * 1000000ull;
	t0 = now_ns();
	CHECK_EQ(ccdma_pool_alloc_req(p, &r, &x), -ENOMEM);
	dt = now_ns() - t0;
	CHECK(dt >= 190 * 1000000ull);
	CHECK(x == NULL);

	/* A free from another thread ends the wait with success. */
	r.timeout_ns = 10ull * 1000000000ull;
	REQUIRE(pthread_create(&t, NULL, freer, NULL) == 0);
	t0 = now_ns();
	CHECK_EQ(ccdma_pool_alloc_req(p, &r, &x), 0);
	dt = now_ns() - t0;
	pthread_join(t, NULL);
	CHECK(x == victim); /* the freed run, reused */
	CHECK(dt < 5ull * 1000000000ull);

	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.waits, 2);
	CHECK(st.wait_ns >= 250 * 1000000ull);
	/* The longest wait is one of the two, and at least their mean. */
	CHECK(st.wait_max_ns <= st.wait_ns);
	CHECK(st.wait_max_ns >= st.wait_ns / 2);
	CHECK_EQ(st.failures, 2); /* fill loop end + timed-out wait */
	CHECK_EQ(ccdma_pool_free(p, x, 0), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, fill[i], 0), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_wait");
}
