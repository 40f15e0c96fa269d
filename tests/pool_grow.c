/* Growth under demand: the grower thread (not the allocating thread)
 * creates regions, paying the sharing cost, keeps the free bytes above the
 * low watermark, and WAIT allocations ride on it. */
#include <pthread.h>
#include <unistd.h>

#include "test.h"

static pthread_t main_thread;
static int adds, adds_on_main;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static void listener(void *arg, bool added, int fd, void *addr, size_t size,
		     uint64_t off)
{
	(void)arg;
	(void)addr;
	(void)off;
	CHECK(fd >= 0);
	CHECK(size > 0);
	pthread_mutex_lock(&mu);
	if (added) {
		adds++;
		if (pthread_equal(pthread_self(), main_thread))
			adds_on_main++;
	}
	pthread_mutex_unlock(&mu);
}

#define N 400

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_stats st;
	struct ccdma_pool *p;
	void *a[N];
	int i, tries;

	test_init();
	ccdma_share_cost_set_ns(2000); /* the realistic default: 0.5 ms per MiB */
	main_thread = pthread_self();
	test_config(&cfg, "grow");
	cfg.region_size = 1u << 20;
	cfg.low_watermark = 2u << 20;
	cfg.high_watermark = 64u << 20; /* no shrinking in this test */
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	ccdma_pool_set_region_listener(p, listener, NULL);
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK_EQ(st.shared_bytes, cfg.region_size); /* the floor: one region */
	CHECK_EQ(st.region_grows, 1);
	/* The floor's region was announced here, when the listener came;
	 * count only what the grower adds from now on. */
	pthread_mutex_lock(&mu);
	CHECK_EQ(adds, 1);
	adds = adds_on_main = 0;
	pthread_mutex_unlock(&mu);

	/* 400 x 40 KiB = 16 MiB: far beyond anything created up front. */
	for (i = 0; i < N; i++) {
		struct ccdma_pool_req r = { .size = 40000, .flags = CCDMA_POOL_WAIT,
					    .timeout_ns = 5000000000ull };

		CHECK_EQ(ccdma_pool_alloc_req(p, &r, &a[i]), 0);
		if (a[i])
			memset(a[i], i & 0xff, 40000);
	}
	/* The grower catches up to the low watermark on its own. */
	for (tries = 0; tries < 200; tries++) {
		CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
		if (st.free_bytes >= cfg.low_watermark)
			break;
		usleep(10000);
	}
	CHECK(st.free_bytes >= cfg.low_watermark);
	CHECK(st.shared_bytes >= (uint64_t)N * 40960);
	CHECK(st.region_grows >= 16);
	CHECK_EQ(st.failures, 0);
	pthread_mutex_lock(&mu);
	CHECK_EQ((uint64_t)adds, st.region_grows - 1);
	CHECK_EQ(adds_on_main, 0); /* never on the allocating thread */
	pthread_mutex_unlock(&mu);
	for (i = 0; i < N; i++) {
		unsigned char *b = a[i];

		if (!b)
			continue;
		CHECK(b[0] == (unsigned char)i && b[39999] == (unsigned char)i);
		CHECK_EQ(ccdma_pool_free(p, a[i], 40000), 0);
	}
	/* Small classes grow too (spans carved from the new regions). */
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_alloc(p, 3000, CCDMA_POOL_WAIT, &a[i]), 0);
	for (i = 0; i < N; i++)
		CHECK_EQ(ccdma_pool_free(p, a[i], 3000), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_grow");
}
