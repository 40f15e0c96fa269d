/* SPDX-License-Identifier: MIT */
/*
 * The harness itself: CHECK and CHECK_EQ from several threads at once
 * count every failure (tests/test.h keeps test_failures atomic).  Under
 * ThreadSanitizer a plain int is reported as a data race; in any build a
 * lost increment shows as a count short of what the threads failed.
 */
#include <pthread.h>

#include "test.h"

#define THREADS 4
#define PER_THREAD 20000

static void *fail_many(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < PER_THREAD; i++) {
		if (i & 1)
			CHECK(i < 0);
		else
			CHECK_EQ(i, -1);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	int i, counted;

	test_init();
	/* The failures are on purpose: keep their messages out of the log. */
	REQUIRE(freopen("/dev/null", "w", stderr) != NULL);
	for (i = 0; i < THREADS; i++)
		REQUIRE(pthread_create(&t[i], NULL, fail_many, NULL) == 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	counted = test_failures;
	test_failures = 0;
	printf("%d threads failed %d checks each: %d counted\n", THREADS, PER_THREAD,
	       counted);
	CHECK_EQ(counted, THREADS * PER_THREAD);
	if (test_failures)
		printf("harness_threads: lost %d failure(s)\n", THREADS * PER_THREAD - counted);
	return test_done("harness_threads");
}
