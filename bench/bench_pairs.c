/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench pairs: the pool's fast path alone, one thread, in a bare loop
 * of ccdma_pool_alloc + ccdma_pool_free of one size (a cached class).
 *
 * It prints ns per pair.  Its loop is one function, bench_pairs_loop, so
 * that callgrind can count the instructions of the pairs and nothing else:
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect=bench_pairs_loop \
 *            ./build/bench/ccdma-bench pairs --n 1000000
 *
 * (the total Ir callgrind prints, divided by the number of pairs the
 * program says bench_pairs_loop ran, is instructions per pair;
 * docs/performance.md).  The pairs write nothing into their buffers
 * (dirty length 0): the allocator alone.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "bench.h"

#define WARM_PAIRS 1000

/* n pairs; 0 or the first error. */
__attribute__((noinline)) int bench_pairs_loop(struct ccdma_pool *p, size_t size,
					       unsigned long n);

int bench_pairs_loop(struct ccdma_pool *p, size_t size, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *b;
		int rc = ccdma_pool_alloc(p, size, CCDMA_POOL_NOWAIT, &b);

		if (rc)
			return rc;
		BENCH_CLOBBER(b);
		rc = ccdma_pool_free(p, b, 0);
		if (rc)
			return rc;
	}
	return 0;
}

static void pairs_usage(FILE *f)
{
	fprintf(f, "usage: ccdma-bench pairs [--n N] [--size BYTES]\n"
		   "  N alloc+free pairs of BYTES (default 10000000 of 4096) in one\n"
		   "  thread; prints ns per pair.  Instructions per pair: see the\n"
		   "  header of bench/bench_pairs.c (callgrind)\n");
}

static int parse_ul(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno || end == s || *end || !*v ? -1 : 0;
}

int bench_pairs_main(int argc, char **argv)
{
	unsigned long n = 10000000, size = 4096;
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	uint64_t t0, dt;
	int rc;

	/* Options come in pairs: a name, then its value. */
	for (int i = 1; i < argc; i += 2) {
		unsigned long *v = NULL;

		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			pairs_usage(stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--n"))
			v = &n;
		else if (!strcmp(argv[i], "--size"))
			v = &size;
		if (!v || i + 1 >= argc || parse_ul(argv[i + 1], v)) {
			fprintf(stderr, "ccdma-bench pairs: bad option '%s'%s\n", argv[i],
				v ? " (a positive number must follow)" : "");
			pairs_usage(stderr);
			return 2;
		}
	}
	ccdma_share_cost_set_ns(0);
	ccdma_pool_config_init(&cfg);
	cfg.name = "pairs";
	cfg.initial_bytes = 4u << 20;
	rc = ccdma_pool_create(&cfg, &p);
	if (rc) {
		fprintf(stderr, "ccdma-bench pairs: pool: %s\n", strerror(-rc));
		return 1;
	}
	/* Warm the thread's cache of the class, then time. */
	rc = bench_pairs_loop(p, size, WARM_PAIRS);
	t0 = bench_now_ns();
	if (!rc)
		rc = bench_pairs_loop(p, size, n);
	dt = bench_now_ns() - t0;
	ccdma_pool_destroy(p);
	if (rc) {
		fprintf(stderr, "ccdma-bench pairs: %lu-byte pair failed: %s\n", size,
			strerror(-rc));
		return 1;
	}
	printf("%lu alloc+free pairs of %lu bytes: %.1f ns per pair\n"
	       "bench_pairs_loop ran %lu pairs in all (%d to warm up)\n", n, size,
	       (double)dt / (double)n, n + WARM_PAIRS, WARM_PAIRS);
	return 0;
}
