/* SPDX-License-Identifier: MIT */
/*
 * Concurrency: four threads map and unmap private buffers of mixed sizes in
 * every direction on one device, several mappings live at once, while
 * playing the device (it verifies what it reads for TO_DEVICE and
 * BIDIRECTIONAL, writes a pattern for FROM_DEVICE and BIDIRECTIONAL).  No
 * byte is ever wrong, the device never faults on a live mapping (strict
 * IOMMU: page counters shared by neighbouring mappings), and afterwards
 * nothing is left in use in the pool.
 */
#include "test.h"

#include <ccdma/dma.h>
#include <pthread.h>
#include <time.h>

#define NTHREADS 4
#define DEPTH 4
#define MAXLEN (128u * 1024u)
#define RUN_NS 250000000ull /* per phase */

struct slot {
	unsigned char *buf;
	size_t len;
	enum ccdma_dir dir;
	ccdma_addr_t dma;
	uint8_t seed;
	bool live;
};

struct worker {
	pthread_t t;
	struct ccdma_dev *d;
	unsigned id;
	uint64_t ops, bad_bytes, map_errors, dev_errors, unmap_errors;
	unsigned char *scratch;
	struct slot s[DEPTH];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline unsigned char pat(uint8_t seed, size_t i)
{
	return (unsigned char)(seed + i * 131 + (i >> 8));
}

static void fill(unsigned char *b, size_t n, uint8_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = pat(seed, i);
}

static uint64_t mismatches(const unsigned char *b, size_t n, uint8_t seed)
{
	size_t i;
	uint64_t c = 0;

	for (i = 0; i < n; i++)
		c += b[i] != pat(seed, i);
	return c;
}

/* Map slot s: the CPU prepares the buffer, maps, the device does its part. */
static void start(struct worker *w, struct slot *s, uint64_t *rng)
{
	s->len = dma_mix_size(rng, MAXLEN);
	s->dir = (enum ccdma_dir)(xorshift(rng) % 3);
	s->seed = (uint8_t)xorshift(rng);
	if (s->dir == CCDMA_FROM_DEVICE)
		memset(s->buf, 0xff, s->len);
	else
		fill(s->buf, s->len, s->seed);
	s->dma = ccdma_map_single_attrs(w->d, s->buf, s->len, s->dir,
					CCDMA_ATTR_WAIT);
	if (ccdma_mapping_error(w->d, s->dma)) {
		w->map_errors++;
		return;
	}
	s->live = true;
	if (s->dir != CCDMA_FROM_DEVICE) {
		if (ccdma_dev_read(w->d, s->dma, w->scratch, s->len))
			w->dev_errors++;
		else
			w->bad_bytes += mismatches(w->scratch, s->len, s->seed);
	}
	if (s->dir != CCDMA_TO_DEVICE) {
		s->seed ^= 0x5a;
		fill(w->scratch, s->len, s->seed);
		if (ccdma_dev_write(w->d, s->dma, w->scratch, s->len))
			w->dev_errors++;
	}
}

/* Unmap slot s and check what the CPU got back. */
static void finish(struct worker *w, struct slot *s)
{
	if (!s->live)
		return;
	if (ccdma_unmap_single(w->d, s->dma, s->len, s->dir))
		w->unmap_errors++;
	/* TO_DEVICE: the buffer is untouched; otherwise it holds the
	 * device's pattern. */
	w->bad_bytes += mismatches(s->buf, s->len, s->seed);
	s->live = false;
	w->ops++;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ull * (w->id + 1), end = now_ns() + RUN_NS;
	unsigned i;

	do {
		for (i = 0; i < DEPTH; i++) {
			/* Unmap in a shuffled order: neighbours come and go
			 * while others stay live. */
			struct slot *s = &w->s[(i + xorshift(&rng)) % DEPTH];

			finish(w, s);
			start(w, s, &rng);
		}
	} while (now_ns() < end);
	for (i = 0; i < DEPTH; i++)
		finish(w, &w->s[i]);
	return NULL;
}

static void phase(const char *name, enum ccdma_xlate_kind kind,
		  enum ccdma_iommu_mode mode)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_pool_stats st;
	struct worker w[NTHREADS];
	struct ccdma_dev *d;
	uint64_t ops = 0;
	unsigned i, j;

	test_config(&pc, name);
	pc.initial_bytes = 8u << 20;
	pc.region_size = 4u << 20;
	ccdma_dev_config_init(&cfg);
	cfg.name = name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	cfg.xlate.kind = kind;
	cfg.xlate.iommu = mode;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);

	memset(w, 0, sizeof(w));
	for (i = 0; i < NTHREADS; i++) {
		w[i].d = d;
		w[i].id = i;
		w[i].scratch = malloc(MAXLEN);
		REQUIRE(w[i].scratch);
		for (j = 0; j < DEPTH; j++) {
			w[i].s[j].buf = malloc(MAXLEN);
			REQUIRE(w[i].s[j].buf);
		}
	}
	for (i = 0; i < NTHREADS; i++)
		REQUIRE(pthread_create(&w[i].t, NULL, work, &w[i]) == 0);
	for (i = 0; i < NTHREADS; i++) {
		REQUIRE(pthread_join(w[i].t, NULL) == 0);
		CHECK_EQ(w[i].bad_bytes, 0);
		CHECK_EQ(w[i].map_errors, 0);
		CHECK_EQ(w[i].dev_errors, 0);
		CHECK_EQ(w[i].unmap_errors, 0);
		CHECK(w[i].ops > 0);
		ops += w[i].ops;
	}
	CHECK_EQ(ccdma_dev_faults(d), 0);
	printf("%s: %llu map/unmap round trips\n", name, (unsigned long long)ops);

	/* Every bounce went back. */
	CHECK_EQ(ccdma_pool_get_stats(ccdma_dev_pool(d), &st), 0);
	CHECK_EQ(st.in_use_bytes, 0);
	for (i = 0; i < st.nclasses; i++)
		CHECK_EQ(st.classes[i].in_use, 0);
	CHECK_EQ(st.allocs, st.frees);
	CHECK(st.allocs >= ops);
	CHECK(st.bounce_copies_from_device > 0 && st.bounce_copies_to_device > 0);

	for (i = 0; i < NTHREADS; i++) {
		free(w[i].scratch);
		for (j = 0; j < DEPTH; j++)
			free(w[i].s[j].buf);
	}
	CHECK_EQ(ccdma_dev_destroy(d), 0);
}

int main(void)
{
	test_init();
	phase("threads-identity", CCDMA_XLATE_IDENTITY, CCDMA_IOMMU_WINDOW);
	phase("threads-strict", CCDMA_XLATE_IOMMU, CCDMA_IOMMU_STRICT);
	return test_done("dma_threads");
}
