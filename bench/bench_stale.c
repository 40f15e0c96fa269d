/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench stale: what the no-stale-data rule costs a device-to-memory
 * mapping (DESIGN.md invariant 2).
 *
 * One thread, one pool; sizes 4 KiB, 64 KiB, 256 KiB.  Each iteration of
 * the timed loop is the pool side of one FROM_DEVICE mapping:
 *   1. take a slot of `size` bytes (ccdma_pool_alloc, WAIT; with
 *      CCDMA_POOL_ZERO for the two ccdma methods);
 *   2. linux only: memcpy the whole private buffer into the slot;
 *   3. the "device" answers: it writes the first and the last byte;
 *   4. give the slot back, declaring `size` bytes dirty (512 for
 *      "ccdma 512B"), which is what the next CCDMA_POOL_ZERO clears.
 * The pool's thread cache is LIFO, so every iteration gets the same slot
 * back, warm in the CPU caches: the figures are the protection's CPU cost,
 * not memory bandwidth.  Methods:
 *   none        no protection: the unsafe floor;
 *   linux       Linux's fix for CVE-2022-0854: copy the original buffer
 *               into the slot at map time;
 *   ccdma       CCDMA_POOL_ZERO after an owner that dirtied the whole slot
 *               (the worst case: a memset of `size` bytes);
 *   ccdma 512B  CCDMA_POOL_ZERO after an owner that dirtied 512 bytes.
 * A round is 50 MiB / size iterations; reported: the best of 7 rounds in
 * ns per iteration, the extra ns over "none", the ratio
 * (ccdma - none) / (linux - none), and, from the pool's zeroed_bytes
 * counter, the bytes each method cleared per mapping.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "bench.h"

enum method { NONE, LINUX_COPY, CCDMA_ZERO, CCDMA_ZERO_SHORT };

#define ROUNDS 7

/* Best of 7 rounds of `iters` mappings, ns per mapping; *zeroed: the
 * pool's zeroed bytes per mapping over all rounds.  -1 on failure. */
static double run(struct ccdma_pool *p, size_t len, enum method m,
		  unsigned char *orig, int iters, double *zeroed)
{
	struct ccdma_pool_stats st0, st1;
	uint64_t best = UINT64_MAX;
	int round, i;

	if (ccdma_pool_get_stats(p, &st0))
		return -1;
	for (round = 0; round < ROUNDS; round++) {
		uint64_t t0 = bench_now_ns(), dt;

		for (i = 0; i < iters; i++) {
			unsigned char *b;
			unsigned flags = m >= CCDMA_ZERO ? CCDMA_POOL_ZERO : 0;

			if (ccdma_pool_alloc(p, len, flags | CCDMA_POOL_WAIT, (void **)&b))
				return -1;
			if (m == LINUX_COPY)
				memcpy(b, orig, len);
			/* The device writes its answer: the slot is dirty. */
			b[0] = (unsigned char)i;
			b[len - 1] = (unsigned char)i;
			if (ccdma_pool_free(p, b, m == CCDMA_ZERO_SHORT ? 512 : len))
				return -1;
		}
		dt = bench_now_ns() - t0;
		if (dt < best)
			best = dt;
	}
	if (ccdma_pool_get_stats(p, &st1))
		return -1;
	if (zeroed)
		*zeroed = (double)(st1.zeroed_bytes - st0.zeroed_bytes) /
			  ((double)iters * ROUNDS);
	return (double)best / iters;
}

int bench_stale_main(int argc, char **argv)
{
	static const size_t sizes[] = { 4096, 65536, 262144 };
	struct ccdma_pool_config cfg;
	struct ccdma_pool *p;
	bool json = false;
	struct bench_json j;
	unsigned char *orig;
	size_t k;
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--help")) {
			printf("usage: ccdma-bench stale [--json]\n");
			return 0;
		} else {
			fprintf(stderr, "ccdma-bench stale: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	ccdma_share_cost_set_ns(0);
	ccdma_pool_config_init(&cfg);
	cfg.name = "stale";
	cfg.initial_bytes = 16u << 20;
	rc = ccdma_pool_create(&cfg, &p);
	if (rc) {
		fprintf(stderr, "ccdma-bench stale: pool: %s\n", strerror(-rc));
		return 1;
	}
	orig = malloc(sizes[2]);
	if (!orig)
		return 1;
	memset(orig, 0x5a, sizes[2]);
	if (json) {
		bench_json_begin(&j, stdout);
		bench_json_obj(&j, NULL);
		bench_json_str(&j, "benchmark", "stale");
		bench_json_u64(&j, "rounds", ROUNDS);
	} else {
		printf("no-stale-data cost per device-to-memory mapping (best of %d rounds)\n",
		       ROUNDS);
		printf("%8s %9s %9s %9s %11s %14s %12s %10s %10s\n", "size", "none ns",
		       "linux ns", "ccdma ns", "ccdma/linux", "ccdma 512B ns",
		       "extra ratio", "zeroed B", "512B: zB");
	}
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		int iters = (int)(200u * 1024 * 1024 / len / 4);
		double none, lin, zero, shrt, ratio, z[4];
		char key[32];

		/* Warm up: the slot is in the cache and dirty. */
		run(p, len, CCDMA_ZERO, orig, iters / 4, NULL);
		none = run(p, len, NONE, orig, iters, &z[NONE]);
		lin = run(p, len, LINUX_COPY, orig, iters, &z[LINUX_COPY]);
		zero = run(p, len, CCDMA_ZERO, orig, iters, &z[CCDMA_ZERO]);
		shrt = run(p, len, CCDMA_ZERO_SHORT, orig, iters, &z[CCDMA_ZERO_SHORT]);
		if (none < 0 || lin < 0 || zero < 0 || shrt < 0) {
			fprintf(stderr, "ccdma-bench stale: allocation failed\n");
			return 1;
		}
		/* extra cost of the protection over none, ccdma ÷ linux */
		ratio = (lin - none) > 0 ? (zero - none) / (lin - none) : 0;
		if (json) {
			snprintf(key, sizeof(key), "stale_%zuk", len >> 10);
			bench_json_obj(&j, key);
			bench_json_u64(&j, "bytes", len);
			bench_json_u64(&j, "iterations", (uint64_t)iters);
			bench_json_num(&j, "none_ns", none);
			bench_json_num(&j, "linux_copy_ns", lin);
			bench_json_num(&j, "ccdma_zero_ns", zero);
			bench_json_num(&j, "ccdma_zero_after_512b_ns", shrt);
			bench_json_num(&j, "extra_ratio_ccdma_vs_linux", ratio);
			bench_json_num(&j, "none_zeroed_bytes", z[NONE]);
			bench_json_num(&j, "linux_copy_zeroed_bytes", z[LINUX_COPY]);
			bench_json_num(&j, "ccdma_zero_zeroed_bytes", z[CCDMA_ZERO]);
			bench_json_num(&j, "ccdma_zero_after_512b_zeroed_bytes",
				       z[CCDMA_ZERO_SHORT]);
			bench_json_end(&j);
		} else {
			printf("%7zuK %9.1f %9.1f %9.1f %11.2f %14.1f %12.2f %10.0f %10.0f\n",
			       len >> 10, none, lin, zero, zero / lin, shrt, ratio,
			       z[CCDMA_ZERO], z[CCDMA_ZERO_SHORT]);
		}
	}
	if (json) {
		bench_json_end(&j);
		printf("\n");
	} else {
		printf("extra ratio = (ccdma - none) / (linux - none): the share of Linux's\n"
		       "extra cost that ccdma pays for the same guarantee; zeroed B: bytes\n"
		       "CCDMA_POOL_ZERO cleared per mapping (ccdma, ccdma 512B)\n");
	}
	free(orig);
	ccdma_pool_destroy(p);
	return 0;
}
