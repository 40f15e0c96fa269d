/* Deferred requests: after -ENOMEM, a registered callback runs once when
 * memory comes back (here: a free), from the pool's thread; a cancelled
 * one never runs. */
#include <pthread.h>
#include <unistd.h>

#include "test.h"

static struct ccdma_pool *p;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ran, retried_ok;
static void *got;
static pthread_t cb_thread;

static void cb(void *arg)
{
	void *x = NULL;
	int rc = ccdma_pool_alloc(p, 100000, 0, &x);

	pthread_mutex_lock(&mu);
	ran++;
	cb_thread = pthread_self();
	if (rc == 0) {
		retried_ok = 1;
		got = x;
	}
	(void)arg;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static void never(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	ran += 100;
	pthread_mutex_unlock(&mu);
}

int main(void)
{
	struct ccdma_pool_config cfg;
	struct ccdma_pool_waiter w = { .fn = cb, .size = 100000 };
	struct ccdma_pool_waiter w2 = { .fn = never, .size = 100000 };
	struct ccdma_pool_stats st;
	void *fill[16], *x;
	int n = 0, i;

	test_init();
	test_config(&cfg, "defer");
	cfg.initial_bytes = 1u << 20;
	cfg.flags = CCDMA_POOL_F_NO_GROWER;
	REQUIRE(ccdma_pool_create(&cfg, &p) == 0);
	while (n < 16 && ccdma_pool_alloc(p, 100000, 0, &fill[n]) == 0)
		n++;
	CHECK_EQ(ccdma_pool_alloc(p, 100000, 0, &x), -ENOMEM);
	CHECK_EQ(ccdma_pool_defer(p, &w), 0);
	CHECK_EQ(ccdma_pool_defer(p, &w2), 0);
	CHECK_EQ(ccdma_pool_defer_cancel(p, &w2), 0);
	CHECK_EQ(ccdma_pool_defer_cancel(p, &w2), -ENOENT);

	usleep(200 * 1000); /* nothing freed: the callback must not have run
			       successfully (it may not run at all) */
	pthread_mutex_lock(&mu);
	CHECK_EQ(retried_ok, 0);
	pthread_mutex_unlock(&mu);
	if (ran) { /* a spurious early run retried, failed; register again */
		pthread_mutex_lock(&mu);
		ran = 0;
		pthread_mutex_unlock(&mu);
		CHECK_EQ(ccdma_pool_defer(p, &w), 0);
	}

	CHECK_EQ(ccdma_pool_free(p, fill[--n], 0), 0);
	pthread_mutex_lock(&mu);
	while (!ran) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 10;
		if (pthread_cond_timedwait(&cv, &mu, &ts))
			break;
	}
	CHECK_EQ(ran, 1);
	CHECK_EQ(retried_ok, 1);
	CHECK(!pthread_equal(cb_thread, pthread_self()));
	pthread_mutex_unlock(&mu);
	CHECK_EQ(ccdma_pool_defer_cancel(p, &w), -ENOENT); /* already ran */
	CHECK_EQ(ccdma_pool_get_stats(p, &st), 0);
	CHECK(st.deferred_callbacks >= 1);
	CHECK_EQ(ccdma_pool_free(p, got, 0), 0);
	for (i = 0; i < n; i++)
		CHECK_EQ(ccdma_pool_free(p, fill[i], 0), 0);
	ccdma_pool_destroy(p);
	return test_done("pool_defer");
}
