/* SPDX-License-Identifier: MIT */
/*
 * OS calls whose failure changes what the library does fail closed, with
 * a message, instead of being ignored.  The test program defines the
 * pthread functions itself (the static library's calls bind to them) and
 * makes them fail on demand, calling the real ones otherwise:
 *   - pthread_key_create: no pool (-EAGAIN), since an exiting thread's
 *     cached slots would never come back; the next pool tries again;
 *   - pthread_condattr_setclock: no pool (-EINVAL) and no device with its
 *     own pool, since timed waits would take monotonic deadlines on
 *     another clock;
 *   - pthread_setspecific: a thread whose exit cannot be hooked gets no
 *     slot cache: its allocations fail with -ENOMEM, its frees go straight
 *     to the shared depot (reused, counted), and once the call works again
 *     the thread gets its cache, which its exit gives back.
 * Runs before any other pool of the process exists (the key is made once).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <time.h>

#include "test.h"

static int fail_key, fail_setclock, fail_setspecific; /* atomic */
static unsigned seen_setspecific;                     /* atomic */

static void set_failing(int *flag, int on)
{
	__atomic_store_n(flag, on, __ATOMIC_RELEASE);
}

/*
 * The stand-ins.  ThreadSanitizer's runtime calls pthread_key_create
 * while it starts, before it can take instrumented code: these are not
 * instrumented and call nothing that is.
 */
#define UNINSTRUMENTED __attribute__((no_sanitize_thread, no_sanitize_address))

UNINSTRUMENTED static void *real_fn(const char *name)
{
	void *f = dlsym(RTLD_NEXT, name);

	if (!f)
		abort();
	return f;
}

UNINSTRUMENTED int pthread_key_create(pthread_key_t *key, void (*dtor)(void *))
{
	int (*real)(pthread_key_t *, void (*)(void *));

	if (__atomic_load_n(&fail_key, __ATOMIC_ACQUIRE))
		return EAGAIN;
	*(void **)&real = real_fn("pthread_key_create");
	return real(key, dtor);
}

UNINSTRUMENTED int pthread_condattr_setclock(pthread_condattr_t *a,
					     clockid_t clock)
{
	int (*real)(pthread_condattr_t *, clockid_t);

	if (__atomic_load_n(&fail_setclock, __ATOMIC_ACQUIRE))
		return EINVAL;
	*(void **)&real = real_fn("pthread_condattr_setclock");
	return real(a, clock);
}

UNINSTRUMENTED int pthread_setspecific(pthread_key_t key, const void *v)
{
	int (*real)(pthread_key_t, const void *);

	__atomic_add_fetch(&seen_setspecific, 1, __ATOMIC_RELAXED);
	if (__atomic_load_n(&fail_setspecific, __ATOMIC_ACQUIRE))
		return ENOMEM;
	*(void **)&real = real_fn("pthread_setspecific");
	return real(key, v);
}

static struct ccdma_pool *make_pool(int *rc)
{
	struct ccdma_pool_config pc;
	struct ccdma_pool *p = NULL;

	test_config(&pc, "oserr");
	*rc = ccdma_pool_create(&pc, &p);
	return p;
}

static struct ccdma_pool *pool;
static void *from_main;

/* A thread whose exit cannot be hooked at first. */
static void *worker(void *arg)
{
	struct ccdma_pool_stats st;
	void *x = NULL, *y = NULL;
	unsigned before;

	(void)arg;
	set_failing(&fail_setspecific, 1);
	before = __atomic_load_n(&seen_setspecific, __ATOMIC_RELAXED);
	CHECK_EQ(ccdma_pool_alloc(pool, 3000, CCDMA_POOL_NOWAIT, &x), -ENOMEM);
	CHECK(x == NULL);
	CHECK(__atomic_load_n(&seen_setspecific, __ATOMIC_RELAXED) > before);
	/* A free from this thread still works: the slot goes to the depot. */
	CHECK_EQ(ccdma_pool_free(pool, from_main, 3000), 0);
	CHECK_EQ(ccdma_pool_get_stats(pool, &st), 0);
	CHECK_EQ(st.classes[ccdma_pool_class_of(3000)].in_use, 0);
	CHECK_EQ(st.allocs, st.frees);
	/* Hooked now: the cache comes, and this thread's exit empties it. */
	set_failing(&fail_setspecific, 0);
	CHECK_EQ(ccdma_pool_alloc(pool, 3000, CCDMA_POOL_NOWAIT, &y), 0);
	CHECK_EQ(ccdma_pool_free(pool, y, 3000), 0);
	return NULL;
}

int main(void)
{
	struct ccdma_dev_config dc;
	struct ccdma_pool_stats st;
	struct ccdma_dev *d = NULL;
	struct ccdma_pool *p;
	pthread_t t;
	int rc;

	test_init();
	if (!getenv("CCDMA_TEST_VERBOSE"))
		ccdma_log_set_handler(quiet_log, NULL);

	/* No thread-exit hook: no pool, and nothing left behind. */
	set_failing(&fail_key, 1);
	p = make_pool(&rc);
	CHECK_EQ(rc, -EAGAIN);
	CHECK(p == NULL);
	set_failing(&fail_key, 0);
	/* Tried again by the next pool. */
	p = make_pool(&rc);
	CHECK_EQ(rc, 0);
	ccdma_pool_destroy(p);

	/* Conditions that cannot wait on the monotonic clock. */
	set_failing(&fail_setclock, 1);
	p = make_pool(&rc);
	CHECK_EQ(rc, -EINVAL);
	CHECK(p == NULL);
	ccdma_dev_config_init(&dc);
	dc.name = "oserr";
	dc.mode = CCDMA_MODE_CONFIDENTIAL;
	CHECK_EQ(ccdma_dev_create(&dc, &d), -EINVAL);
	CHECK(d == NULL);
	set_failing(&fail_setclock, 0);

	/* A thread without a cache. */
	pool = make_pool(&rc);
	REQUIRE(rc == 0);
	REQUIRE(ccdma_pool_alloc(pool, 3000, CCDMA_POOL_NOWAIT, &from_main) == 0);
	REQUIRE(pthread_create(&t, NULL, worker, NULL) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	CHECK_EQ(ccdma_pool_get_stats(pool, &st), 0);
	CHECK_EQ(st.classes[ccdma_pool_class_of(3000)].in_use, 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK_EQ(st.allocs, 2);
	ccdma_pool_destroy(pool);
	return test_done("os_call_errors");
}
