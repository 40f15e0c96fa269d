/* SPDX-License-Identifier: MIT */
/*
 * Tiny test harness: each test is a program that exits 0 (pass), 1 (fail)
 * or 77 (skip).  CHECK records a failure with its line and goes on, so one
 * run shows every broken assertion.
 */
#ifndef CCDMA_TEST_H
#define CCDMA_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ccdma/dma.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include "dma_mix.h"

/* Checks fail from worker threads too: atomic, so no count is lost and
 * the final read sees every increment (and TSan sees no race). */
static _Atomic int test_failures;

#define CHECK(cond)                                                          \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #cond);                            \
			test_failures++;                                     \
		}                                                            \
	} while (0)

#define CHECK_EQ(a, b)                                                       \
	do {                                                                 \
		long long va_ = (long long)(a), vb_ = (long long)(b);        \
		if (va_ != vb_) {                                            \
			fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %lld, "  \
				"expected %s == %lld\n", __FILE__, __LINE__,  \
				#a, va_, #b, vb_);                           \
			test_failures++;                                     \
		}                                                            \
	} while (0)

/* Abort the test at once (setup failures). */
#define REQUIRE(cond)                                                        \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "%s:%d: REQUIRE failed: %s\n",         \
				__FILE__, __LINE__, #cond);                  \
			exit(1);                                             \
		}                                                            \
	} while (0)

static inline int test_done(const char *name)
{
	if (test_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, test_failures);
		return 1;
	}
	printf("%s: ok\n", name);
	return 0;
}

/* Unit tests pay no sharing cost unless they ask for it. */
static inline void test_init(void)
{
	ccdma_share_cost_set_ns(0);
	setvbuf(stdout, NULL, _IONBF, 0);
}

/* A pool config for tests: small regions, quick idle. */
static inline void test_config(struct ccdma_pool_config *c, const char *name)
{
	ccdma_pool_config_init(c);
	c->name = name;
	c->region_size = 1u << 20;
	c->max_bytes = 64u << 20;
	c->low_watermark = 256u << 10;
	c->high_watermark = 1u << 20;
	c->idle_ms = 100;
}

/* Create device `name` in `mode` with its own pool made from *pc.  `cfg`
 * may be NULL (defaults); its name, mode and pool_cfg are set here. */
static inline struct ccdma_dev *test_dev(const char *name,
					 struct ccdma_dev_config *cfg, int mode,
					 const struct ccdma_pool_config *pc)
{
	struct ccdma_dev_config def;
	struct ccdma_dev *d = NULL;

	if (!cfg) {
		ccdma_dev_config_init(&def);
		cfg = &def;
	}
	cfg->name = name;
	cfg->mode = mode;
	cfg->pool_cfg = pc;
	if (ccdma_dev_create(cfg, &d)) {
		fprintf(stderr, "cannot create device %s\n", name);
		exit(1);
	}
	cfg->pool_cfg = NULL;
	return d;
}

/* Swallow expected error messages while a block runs. */
static inline void quiet_log(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)l;
	(void)m;
}

/* Messages kept while a block runs (ccdma_log_set_handler(test_keep_log,
 * NULL)), to check which check refused: every line appended to
 * test_logged(), which the caller empties (test_logged()[0] = 0). */
static inline char *test_logged(void)
{
	static char buf[8192];

	return buf;
}

static inline void test_keep_log(void *arg, enum ccdma_log_level l,
				 const char *m)
{
	char *b = test_logged();
	size_t n = strlen(b);

	(void)arg;
	(void)l;
	snprintf(b + n, 8192 - n, "%s\n", m);
}

/* The project's one PRNG (bench/dma_mix.h). */
/* Lines of file `path` that start with `prefix` and contain `part`
 * (NULL: any); 0 when the file cannot be read. */
static inline unsigned test_count_lines(const char *path, const char *prefix,
					const char *part)
{
	char line[512];
	unsigned n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, prefix, strlen(prefix)) &&
		    (!part || strstr(line, part)))
			n++;
	fclose(f);
	return n;
}

/* Until the pool's grower has begun and finished a pass after this call
 * (30 s at most): whatever it was doing for earlier allocations is done,
 * a region it adds for a late hint included. */
static inline void test_grower_settle(struct ccdma_pool *p)
{
	const struct timespec ms = { 0, 1000000 };
	struct ccdma_pool_stats st;
	uint64_t p0;

	REQUIRE(ccdma_pool_get_stats(p, &st) == 0);
	p0 = st.grower_passes;
	for (int tries = 0; tries < 30000; tries++) {
		REQUIRE(ccdma_pool_get_stats(p, &st) == 0);
		if (st.grower_passes >= p0 + 2)
			return;
		nanosleep(&ms, NULL);
	}
	CHECK(!"the grower made no pass in 30 s");
}

static inline uint64_t xorshift(uint64_t *s)
{
	return dma_mix_rand(s);
}

/* How many of b[lo..hi) are not v. */
static inline size_t count_not(const unsigned char *b, size_t lo, size_t hi,
			       unsigned char v)
{
	size_t i, n = 0;

	for (i = lo; i < hi; i++)
		n += b[i] != v;
	return n;
}

#endif
