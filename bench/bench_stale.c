/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench stale: what the no-stale-data rule costs a device-to-memory
 * mapping (DESIGN.md invariant 2).
 *
 * Each iteration is the pool side of one FROM_DEVICE mapping: take a bounce
 * slot, let the "device" write all of it, give it back.  Three ways to make
 * sure the CPU never receives an earlier owner's bytes:
 *   none   no protection (the unsafe floor);
 *   linux  copy the original buffer into the slot at map time (Linux's fix
 *          for CVE-2022-0854): an extra read of private memory + a write;
 *   ccdma  CCDMA_POOL_ZERO: clear the part earlier owners may have written
 *          (here: all of it, the worst case), and, separately, a slot whose
 *          earlier owner wrote only 512 bytes.
 * Reported: ns per mapping and the extra ns over "none"; the ratio
 * ccdma extra / linux extra.
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

static double run(struct ccdma_pool *p, size_t len, enum method m,
		  unsigned char *orig, int iters)
{
	uint64_t best = UINT64_MAX;
	int round, i;

	for (round = 0; round < 7; round++) {
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
			ccdma_pool_free(p, b, m == CCDMA_ZERO_SHORT ? 512 : len);
		}
		dt = bench_now_ns() - t0;
		if (dt < best)
			best = dt;
	}
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
	} else {
		printf("no-stale-data cost per device-to-memory mapping (best of 7 rounds)\n");
		printf("%8s %9s %9s %9s %11s %14s %12s\n", "size", "none ns",
		       "linux ns", "ccdma ns", "ccdma/linux", "ccdma 512B ns",
		       "extra ratio");
	}
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t len = sizes[k];
		int iters = (int)(200u * 1024 * 1024 / len / 4);
		double none, lin, zero, shrt, ratio;
		char key[32];

		/* warm: every slot in use dirty */
		run(p, len, CCDMA_ZERO, orig, iters / 4);
		none = run(p, len, NONE, orig, iters);
		lin = run(p, len, LINUX_COPY, orig, iters);
		zero = run(p, len, CCDMA_ZERO, orig, iters);
		shrt = run(p, len, CCDMA_ZERO_SHORT, orig, iters);
		if (none < 0 || lin < 0 || zero < 0 || shrt < 0) {
			fprintf(stderr, "ccdma-bench stale: allocation failed\n");
			return 1;
		}
		/* extra cost of the protection over none, ccdma ÷ linux */
		ratio = (lin - none) > 0 ? (zero - none) / (lin - none) : 0;
		if (json) {
			snprintf(key, sizeof(key), "stale_%zuk", len >> 10);
			bench_json_obj(&j, key);
			bench_json_num(&j, "none_ns", none);
			bench_json_num(&j, "linux_copy_ns", lin);
			bench_json_num(&j, "ccdma_zero_ns", zero);
			bench_json_num(&j, "ccdma_zero_after_512b_ns", shrt);
			bench_json_num(&j, "extra_ratio_ccdma_vs_linux", ratio);
			bench_json_end(&j);
		} else {
			printf("%7zuK %9.1f %9.1f %9.1f %11.2f %14.1f %12.2f\n",
			       len >> 10, none, lin, zero, zero / lin, shrt, ratio);
		}
	}
	if (json) {
		bench_json_end(&j);
		printf("\n");
	} else {
		printf("extra ratio = (ccdma - none) / (linux - none): the share of Linux's\n"
		       "extra cost that ccdma pays for the same guarantee\n");
	}
	free(orig);
	ccdma_pool_destroy(p);
	return 0;
}
