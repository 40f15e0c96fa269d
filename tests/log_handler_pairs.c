/* SPDX-License-Identifier: MIT */
/*
 * ccdma_log_set_handler from one thread while another thread's calls log:
 * every message reaches a handler together with that handler's own
 * argument (the pair is published as one), and none is lost.
 * The logging thread counts messages, not time, so the test does the same
 * work however fast the machine is.
 */
#include <pthread.h>

#include "test.h"

#include <ccdma/busdma.h>

#define MESSAGES 200000

static int tag_a, tag_b;
static unsigned long got_a, got_b, mismatched; /* atomic */
static int done;                                /* atomic */

static void handler_a(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)l;
	(void)m;
	__atomic_add_fetch(arg == &tag_a ? &got_a : &mismatched, 1, __ATOMIC_RELAXED);
}

static void handler_b(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)l;
	(void)m;
	__atomic_add_fetch(arg == &tag_b ? &got_b : &mismatched, 1, __ATOMIC_RELAXED);
}

static void *logger(void *arg)
{
	ccdma_bus_dma_tag_t t;
	int i;

	(void)arg;
	for (i = 0; i < MESSAGES; i++)
		CHECK_EQ(ccdma_bus_dma_tag_create(NULL, NULL, NULL, &t), EINVAL);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int main(void)
{
	pthread_t th;
	unsigned long flips = 0;

	test_init();
	ccdma_log_set_handler(handler_a, &tag_a);
	REQUIRE(pthread_create(&th, NULL, logger, NULL) == 0);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		if (flips++ & 1)
			ccdma_log_set_handler(handler_a, &tag_a);
		else
			ccdma_log_set_handler(handler_b, &tag_b);
	}
	REQUIRE(pthread_join(th, NULL) == 0);
	ccdma_log_set_handler(NULL, NULL);
	printf("log_handler_pairs: %lu to a, %lu to b, %lu handler changes\n",
	       got_a, got_b, flips);
	/* Which handler got how many depends on the scheduler: only the
	 * pairing and the total are properties. */
	CHECK_EQ(mismatched, 0);
	CHECK_EQ(got_a + got_b, MESSAGES);
	return test_done("log_handler_pairs");
}
