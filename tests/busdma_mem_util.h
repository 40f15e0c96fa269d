/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the busdma bounce-memory tests (busdma_nowait, _allocnow,
 * _sync, _dmamem, _isolation, _chk_postread, _threads, _strict): a device
 * with its own pool, the pool's byte and copy counters, exhausting a pool,
 * and the device's view of a loaded map (its segments read or written in
 * transfer order through ccdma_dev_read / ccdma_dev_write).
 */
#ifndef CCDMA_BUSDMA_MEM_UTIL_H
#define CCDMA_BUSDMA_MEM_UTIL_H

#include <stdbool.h>
#include <time.h>

#include <ccdma/busdma.h>
#include <ccdma/dma.h>

#include "test.h"

/* A confidential device with its own pool of `bytes`, made at once.
 * fixed: no grower and max_bytes == initial_bytes (a pool that can be
 * exhausted).  xl may be NULL (identity). */
static inline struct ccdma_dev *bdm_dev(const char *name, size_t bytes,
					bool fixed, const struct ccdma_xlate *xl,
					enum ccdma_isolation iso)
{
	struct ccdma_pool_config pc;
	struct ccdma_dev_config cfg;
	struct ccdma_dev *d = NULL;

	test_config(&pc, name);
	pc.initial_bytes = bytes;
	pc.isolation = iso;
	if (fixed) {
		pc.flags = CCDMA_POOL_F_NO_GROWER;
		pc.max_bytes = bytes;
	}
	ccdma_dev_config_init(&cfg);
	cfg.name = name;
	cfg.mode = CCDMA_MODE_CONFIDENTIAL;
	cfg.pool_cfg = &pc;
	if (xl)
		cfg.xlate = *xl;
	REQUIRE(ccdma_dev_create(&cfg, &d) == 0);
	return d;
}

static inline struct ccdma_pool_stats bdm_stats(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	return st;
}

static inline uint64_t bdm_in_use(struct ccdma_dev *d)
{
	return bdm_stats(d).in_use_bytes;
}

/* The pool's bounce copy counters. */
struct bdm_copies {
	uint64_t to, from, to_bytes, from_bytes;
};

static inline struct bdm_copies bdm_copies(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st = bdm_stats(d);
	struct bdm_copies c = {
		st.bounce_copies_to_device, st.bounce_copies_from_device,
		st.bounced_to_device_bytes, st.bounced_from_device_bytes
	};

	return c;
}

/* Copies since *c must be: `to` calls towards the device carrying
 * `to_bytes`, `from` calls from it carrying `from_bytes`.  *c moves on. */
static inline void bdm_expect_copies(int line, struct ccdma_dev *d,
				     struct bdm_copies *c, uint64_t to,
				     uint64_t to_bytes, uint64_t from,
				     uint64_t from_bytes)
{
	struct bdm_copies n = bdm_copies(d);

	if (n.to - c->to != to || n.to_bytes - c->to_bytes != to_bytes ||
	    n.from - c->from != from || n.from_bytes - c->from_bytes != from_bytes) {
		fprintf(stderr, "%s:%d: copies to the device %llu (%llu bytes), from "
			"it %llu (%llu bytes); expected %llu (%llu) and %llu (%llu)\n",
			__FILE__, line, (unsigned long long)(n.to - c->to),
			(unsigned long long)(n.to_bytes - c->to_bytes),
			(unsigned long long)(n.from - c->from),
			(unsigned long long)(n.from_bytes - c->from_bytes),
			(unsigned long long)to, (unsigned long long)to_bytes,
			(unsigned long long)from, (unsigned long long)from_bytes);
		test_failures++;
	}
	*c = n;
}

#define EXPECT_COPIES(d, c, to, tb, from, fb) \
	bdm_expect_copies(__LINE__, d, c, to, tb, from, fb)

/* ---- exhausting a fixed pool ------------------------------------------ */

#define BDM_HOLD_MAX 8192

struct bdm_hold {
	void *p[BDM_HOLD_MAX];
	size_t size[BDM_HOLD_MAX];
	unsigned n;
};

/*
 * Take every byte of the pool: for each size class from the largest down,
 * allocate (NOWAIT) until the pool says -ENOMEM.  Afterwards no request of
 * any size can be served.
 */
static inline void bdm_exhaust(struct ccdma_pool *p, struct bdm_hold *h)
{
	void *x;
	int ci;

	for (ci = CCDMA_POOL_NCLASSES - 1; ci >= 0; ci--) {
		size_t sz = ccdma_pool_class_size((unsigned)ci);

		while (h->n < BDM_HOLD_MAX &&
		       ccdma_pool_alloc(p, sz, CCDMA_POOL_NOWAIT, &x) == 0) {
			h->p[h->n] = x;
			h->size[h->n++] = sz;
		}
	}
	REQUIRE(h->n < BDM_HOLD_MAX);
	/* Really nothing left, whatever the size. */
	REQUIRE(ccdma_pool_alloc(p, 1, CCDMA_POOL_NOWAIT, &x) == -ENOMEM);
	REQUIRE(ccdma_pool_alloc(p, 4096, CCDMA_POOL_NOWAIT, &x) == -ENOMEM);
	REQUIRE(ccdma_pool_alloc(p, 70000, CCDMA_POOL_NOWAIT, &x) == -ENOMEM);
}

/* Give back what bdm_exhaust took. */
static inline void bdm_release(struct ccdma_pool *p, struct bdm_hold *h)
{
	while (h->n) {
		h->n--;
		CHECK_EQ(ccdma_pool_free(p, h->p[h->n], 0), 0);
	}
}

/* ---- the device's view of a loaded map ----------------------------------- */

/* The device reads the whole transfer (its segments in order) into out. */
static inline int bdm_dev_view(struct ccdma_dev *d, ccdma_bus_dmamap_t m,
			       unsigned char *out)
{
	size_t pos = 0;
	int i, rc;

	for (i = 0; i < m->dm_nsegs; i++) {
		rc = ccdma_dev_read(d, m->dm_segs[i].ds_addr, out + pos,
				    m->dm_segs[i].ds_len);
		if (rc)
			return rc;
		pos += m->dm_segs[i].ds_len;
	}
	return pos == m->dm_mapsize ? 0 : -1;
}

/* The device writes the whole transfer from in. */
static inline int bdm_dev_put(struct ccdma_dev *d, ccdma_bus_dmamap_t m,
			      const unsigned char *in)
{
	size_t pos = 0;
	int i, rc;

	for (i = 0; i < m->dm_nsegs; i++) {
		rc = ccdma_dev_write(d, m->dm_segs[i].ds_addr, in + pos,
				     m->dm_segs[i].ds_len);
		if (rc)
			return rc;
		pos += m->dm_segs[i].ds_len;
	}
	return pos == m->dm_mapsize ? 0 : -1;
}

/* Sum of the segment lengths (must be dm_mapsize). */
static inline size_t bdm_seg_bytes(ccdma_bus_dmamap_t m)
{
	size_t s = 0;
	int i;

	for (i = 0; i < m->dm_nsegs; i++)
		s += m->dm_segs[i].ds_len;
	return s;
}

/* Segments that carry a bounce. */
static inline int bdm_bounced_segs(ccdma_bus_dmamap_t m)
{
	int i, n = 0;

	for (i = 0; i < m->dm_nsegs; i++)
		n += m->dm_segs[i]._ds_bounce_va != 0;
	return n;
}

static inline unsigned char bdm_pat(unsigned seed, size_t i)
{
	return (unsigned char)(seed * 7u + i * 131u + (i >> 8) + 1u);
}

static inline void bdm_fill(unsigned char *b, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = bdm_pat(seed, i);
}

static inline uint64_t bdm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Error-level lines the library logged while caught (bdm_log_catch). */
static unsigned bdm_log_errors;

static inline void bdm_log_fn(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	(void)m;
	if (l == CCDMA_LOG_ERROR)
		__atomic_add_fetch(&bdm_log_errors, 1, __ATOMIC_RELAXED);
}

/* Count (and swallow) the library's messages from now on. */
static inline void bdm_log_catch(void)
{
	bdm_log_errors = 0;
	ccdma_log_set_handler(bdm_log_fn, NULL);
}

#endif
