/* SPDX-License-Identifier: MIT */
/*
 * Helpers of the busdma segment tests (busdma_segs, busdma_efbig,
 * busdma_edge, busdma_badargs, busdma_tag): a device with a fixed pool, a
 * log catcher, pool counters, and the two checks every load goes through:
 *
 *   bd_check_segs  the segments against the constraints the test asked
 *                  for (alignment, boundary, maxsegsz, nsegments, address
 *                  limit), against the buffer (sizes add up, _ds_va walks
 *                  the pieces in order, one contiguous original range per
 *                  segment) and against where each piece must live
 *                  (bounced or in place);
 *   bd_check_data  the bytes: after PREWRITE the device reads the buffer at
 *                  the segments; what it writes there reaches the buffer at
 *                  POSTREAD (and not before, for bounced pieces).
 *
 * Every device here has the identity translation, so a segment used in
 * place has ds_addr == _ds_va and a bounced one ds_addr == _ds_bounce_va.
 */
#ifndef CCDMA_BUSDMA_SEGCHECK_H
#define CCDMA_BUSDMA_SEGCHECK_H

#include <stdbool.h>

#include <ccdma/busdma.h>
#include <ccdma/dma.h>

#include "test.h"

/* ---- log catcher ------------------------------------------------------ */

static struct {
	unsigned errors, others;
	char last[512];
} bd_log;

static inline void bd_log_fn(void *arg, enum ccdma_log_level l, const char *m)
{
	(void)arg;
	if (l == CCDMA_LOG_ERROR)
		bd_log.errors++;
	else
		bd_log.others++;
	snprintf(bd_log.last, sizeof(bd_log.last), "%s", m);
}

/* Catch (and count) the library's messages from now on. */
static inline void bd_log_catch(void)
{
	bd_log.errors = 0;
	bd_log.others = 0;
	bd_log.last[0] = 0;
	ccdma_log_set_handler(bd_log_fn, NULL);
}

static inline void bd_log_release(void)
{
	ccdma_log_set_handler(NULL, NULL);
}

/* ---- devices and pool counters ---------------------------------------- */

/* A device with its own pool: 4 MiB made at once, no grower (the numbers
 * the tests compare do not move behind their back).  cfg may be NULL. */
static inline struct ccdma_dev *bd_dev(const char *name,
				       struct ccdma_dev_config *cfg, int mode)
{
	struct ccdma_pool_config pc;

	test_config(&pc, name);
	pc.initial_bytes = 4u << 20;
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	return test_dev(name, cfg, mode, &pc);
}

/* A child tag of `parent` with these constraints (0: the parent's). */
static inline ccdma_bus_dma_tag_t bd_tag(ccdma_bus_dma_tag_t parent, uint64_t align,
					 uint64_t boundary, uint64_t maxsegsz)
{
	struct ccdma_bus_dma_tag_config c;
	ccdma_bus_dma_tag_t t;

	memset(&c, 0, sizeof(c));
	c.alignment = align;
	c.boundary = boundary;
	c.maxsegsz = maxsegsz;
	REQUIRE(ccdma_bus_dma_tag_create(NULL, parent, &c, &t) == 0);
	return t;
}

static inline uint64_t bd_in_use(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	return st.in_use_bytes;
}

struct bd_copies {
	uint64_t to, from, to_bytes, from_bytes;
};

static inline struct bd_copies bd_copies(struct ccdma_dev *d)
{
	struct ccdma_pool_stats st;
	struct bd_copies c;

	REQUIRE(ccdma_pool_get_stats(ccdma_dev_pool(d), &st) == 0);
	c.to = st.bounce_copies_to_device;
	c.from = st.bounce_copies_from_device;
	c.to_bytes = st.bounced_to_device_bytes;
	c.from_bytes = st.bounced_from_device_bytes;
	return c;
}

static inline bool bd_copies_eq(struct bd_copies a, struct bd_copies b)
{
	return a.to == b.to && a.from == b.from && a.to_bytes == b.to_bytes &&
	       a.from_bytes == b.from_bytes;
}

/* The DMA range of the device's pool. */
static inline void bd_pool_range(struct ccdma_dev *d, uint64_t *first,
				 uint64_t *last)
{
	REQUIRE(ccdma_dev_pool_dma_range(d, first, last) == 0);
}

/* ---- expected segment counts ------------------------------------------- */

/* Segments a range contiguous in DMA space [a, a+len) takes when each is
 * cut greedily at `max` bytes and at multiples of `b` (0: none). */
static inline unsigned bd_greedy(uint64_t a, uint64_t len, uint64_t max,
				 uint64_t b)
{
	unsigned n = 0;

	while (len) {
		uint64_t take = max;

		if (b && b - (a & (b - 1)) < take)
			take = b - (a & (b - 1));
		if (take > len)
			take = len;
		a += take;
		len -= take;
		n++;
	}
	return n;
}

/* ---- the segment check ------------------------------------------------- */

struct bd_limits;
static inline uint64_t bd_fewest(uint64_t len, const struct bd_limits *lim);


/* One piece of a transfer, in order.  bounce: 1 must be bounced, 0 must be
 * used in place, -1 either. */
struct bd_piece {
	unsigned char *va;
	size_t len;
	int bounce;
};

/* What every segment must respect (the test's own numbers, not read back
 * from the library).  boundary 0: none. */
struct bd_limits {
	uint64_t align, boundary, maxsegsz;
	int nsegments;
	uint64_t addr_limit;
};

/* The fewest segments `len` contiguous bytes can take when the library
 * places them (a bounce): runs of at most min(maxsegsz, boundary). */
static inline uint64_t bd_fewest(uint64_t len, const struct bd_limits *lim)
{
	uint64_t run = lim->maxsegsz;

	if (lim->boundary && lim->boundary < run)
		run = lim->boundary;
	return (len + run - 1) / run;
}

static int bd_msgs; /* failure messages printed so far (capped) */

#define BD_FAIL(line, ...)                                                   \
	do {                                                                 \
		if (bd_msgs++ < 40) {                                        \
			fprintf(stderr, "line %d: ", line);                  \
			fprintf(stderr, __VA_ARGS__);                        \
			fputc('\n', stderr);                                 \
		}                                                            \
		bad++;                                                       \
	} while (0)

static inline int bd_cmp_range(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return x[0] < y[0] ? -1 : x[0] > y[0];
}

/*
 * Check the loaded map `m` of device `d` against pieces p[0..np) (zero
 * length pieces are skipped, as the load skips them) and limits `lim`.
 * Returns the failures (also added to test_failures).
 */
static inline int bd_check_segs(struct ccdma_dev *d, ccdma_bus_dmamap_t m,
				const struct bd_piece *p, int np,
				const struct bd_limits *lim, int line)
{
	struct ccdma_pool *pool = ccdma_dev_pool(d);
	static uint64_t ranges[2 * 70000];
	uint64_t total = 0, sum = 0;
	int bad = 0, i, pi = 0, nr = 0;
	size_t poff = 0;

	for (i = 0; i < np; i++)
		total += p[i].len;
	if (m->dm_nsegs < 1 || m->dm_nsegs > lim->nsegments)
		BD_FAIL(line, "dm_nsegs %d, expected 1..%d", m->dm_nsegs,
			lim->nsegments);
	if (m->dm_mapsize != total)
		BD_FAIL(line, "dm_mapsize %zu, expected %llu", m->dm_mapsize,
			(unsigned long long)total);
	for (i = 0; i < m->dm_nsegs && i < lim->nsegments; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];
		uint64_t a = s->ds_addr, n = s->ds_len, left;
		uintptr_t va;

		sum += n;
		if (!n || n > lim->maxsegsz)
			BD_FAIL(line, "segment %d: ds_len %llu, expected 1..%llu", i,
				(unsigned long long)n,
				(unsigned long long)lim->maxsegsz);
		if (a % lim->align)
			BD_FAIL(line, "segment %d: ds_addr %#llx not aligned to %llu",
				i, (unsigned long long)a,
				(unsigned long long)lim->align);
		if (n && lim->boundary &&
		    a / lim->boundary != (a + n - 1) / lim->boundary)
			BD_FAIL(line, "segment %d: %#llx+%llu crosses a multiple of "
				"%llu", i, (unsigned long long)a,
				(unsigned long long)n,
				(unsigned long long)lim->boundary);
		if (n && (a + n - 1 < a || a + n - 1 > lim->addr_limit))
			BD_FAIL(line, "segment %d: %#llx+%llu above addr_limit %#llx",
				i, (unsigned long long)a, (unsigned long long)n,
				(unsigned long long)lim->addr_limit);
		if (s->_ds_bounce_va) {
			if (a != s->_ds_bounce_va)
				BD_FAIL(line, "segment %d: bounced at %#llx but "
					"ds_addr %#llx", i,
					(unsigned long long)s->_ds_bounce_va,
					(unsigned long long)a);
			if (n && !ccdma_pool_contains(pool, (void *)s->_ds_bounce_va, n))
				BD_FAIL(line, "segment %d: bounce %#llx+%llu not in "
					"the device's pool", i,
					(unsigned long long)s->_ds_bounce_va,
					(unsigned long long)n);
			if (nr < 70000) {
				ranges[2 * nr] = s->_ds_bounce_va;
				ranges[2 * nr + 1] = n;
				nr++;
			}
		} else if (s->_ds_va && a != s->_ds_va) {
			BD_FAIL(line, "segment %d: in place at va %#llx but ds_addr "
				"%#llx", i, (unsigned long long)s->_ds_va,
				(unsigned long long)a);
		}
		/* _ds_va walks the pieces: one contiguous original range. */
		va = s->_ds_va;
		left = n;
		while (left) {
			size_t take;

			while (pi < np && poff == p[pi].len) {
				pi++;
				poff = 0;
			}
			if (pi == np) {
				BD_FAIL(line, "segment %d: runs past the buffer", i);
				break;
			}
			if ((uintptr_t)(p[pi].va + poff) != va) {
				BD_FAIL(line, "segment %d: _ds_va %#llx (+%llu) where "
					"piece %d byte %zu (%p) is", i,
					(unsigned long long)s->_ds_va,
					(unsigned long long)(n - left), pi, poff,
					(void *)(p[pi].va + poff));
				break;
			}
			if (p[pi].bounce >= 0 &&
			    p[pi].bounce != (s->_ds_bounce_va != 0))
				BD_FAIL(line, "segment %d (piece %d, %p+%zu): %s, "
					"expected %s", i, pi, (void *)p[pi].va,
					p[pi].len, s->_ds_bounce_va ? "bounced" :
					"in place", p[pi].bounce ? "bounced" :
					"in place");
			take = p[pi].len - poff < left ? p[pi].len - poff : left;
			poff += take;
			va += take;
			left -= take;
		}
	}
	if (sum != total && m->dm_nsegs <= lim->nsegments)
		BD_FAIL(line, "segments carry %llu bytes, the buffer %llu",
			(unsigned long long)sum, (unsigned long long)total);
	/* No two bounced segments share bounce bytes. */
	qsort(ranges, (size_t)nr, 2 * sizeof(uint64_t), bd_cmp_range);
	for (i = 1; i < nr; i++)
		if (ranges[2 * i] < ranges[2 * (i - 1)] + ranges[2 * (i - 1) + 1])
			BD_FAIL(line, "bounce ranges %#llx+%llu and %#llx+%llu "
				"overlap", (unsigned long long)ranges[2 * (i - 1)],
				(unsigned long long)ranges[2 * (i - 1) + 1],
				(unsigned long long)ranges[2 * i],
				(unsigned long long)ranges[2 * i + 1]);
	test_failures += bad;
	return bad;
}

/* ---- the data check ---------------------------------------------------- */

/* Byte k of pattern `seed`: neighbouring bytes, shifted copies and other
 * seeds all differ. */
static inline unsigned char bd_pat(uint64_t seed, uint64_t k)
{
	return (unsigned char)(k * 31 + (k >> 8) + seed * 73 + (seed >> 8) * 151 + 1);
}

/* Byte k of the transfer (pieces in order). */
static inline unsigned char *bd_byte(const struct bd_piece *p, int np, uint64_t k)
{
	int i;

	for (i = 0; i < np; i++) {
		if (k < p[i].len)
			return p[i].va + k;
		k -= p[i].len;
	}
	return NULL;
}

/* The pattern of a whole transfer, made once per check (the checks then
 * run at memcpy / memcmp speed). */
#define BD_MAXXFER (1u << 20)
static inline const unsigned char *bd_ref(unsigned char *ref, uint64_t seed,
					  uint64_t n)
{
	uint64_t k;

	REQUIRE(n <= BD_MAXXFER);
	for (k = 0; k < n; k++)
		ref[k] = bd_pat(seed, k);
	return ref;
}

static inline uint64_t bd_total(const struct bd_piece *p, int np)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < np; i++)
		n += p[i].len;
	return n;
}

/* Fill the pieces with pattern `seed`. */
static inline void bd_fill(const struct bd_piece *p, int np, uint64_t seed)
{
	static unsigned char ref[BD_MAXXFER];
	uint64_t k = 0;
	int i;

	bd_ref(ref, seed, bd_total(p, np));
	for (i = 0; i < np; i++) {
		if (p[i].len)
			memcpy(p[i].va, ref + k, p[i].len);
		k += p[i].len;
	}
}

/* Pieces hold `ref` (only pieces with bounce == `only`, or all when
 * only < 0).  The first byte that does not, or -1. */
static inline long long bd_holds_ref(const struct bd_piece *p, int np,
				     const unsigned char *ref, int only)
{
	uint64_t k = 0;
	size_t j;
	int i;

	for (i = 0; i < np; k += p[i].len, i++) {
		if ((only >= 0 && p[i].bounce != only) || !p[i].len ||
		    !memcmp(p[i].va, ref + k, p[i].len))
			continue;
		for (j = 0; j < p[i].len; j++)
			if (p[i].va[j] != ref[k + j])
				return (long long)(k + j);
	}
	return -1;
}

/* The same against pattern `seed`. */
static inline long long bd_holds(const struct bd_piece *p, int np,
				 uint64_t seed, int only)
{
	static unsigned char ref[BD_MAXXFER];

	return bd_holds_ref(p, np, bd_ref(ref, seed, bd_total(p, np)), only);
}

/*
 * The data path of a loaded map: PREWRITE, the device reads every segment
 * and finds the buffer's bytes; POSTWRITE; PREREAD, the device writes
 * every segment (bounced pieces do not change yet), POSTREAD, and the
 * buffer holds what the device wrote.  Returns the failures.
 */
static inline int bd_check_data(struct ccdma_dev *d, ccdma_bus_dma_tag_t t,
				ccdma_bus_dmamap_t m, const struct bd_piece *p,
				int np, uint64_t seed, int line)
{
	static unsigned char tmp[BD_MAXXFER], ra[BD_MAXXFER], rb[BD_MAXXFER];
	uint64_t off = 0, k, n = bd_total(p, np);
	long long at;
	int bad = 0, i, rc;

	bd_ref(ra, seed, n);
	bd_ref(rb, seed + 1, n);
	for (i = 0, k = 0; i < np; k += p[i].len, i++)
		if (p[i].len)
			memcpy(p[i].va, ra + k, p[i].len);
	rc = ccdma_bus_dmamap_sync(t, m, 0, m->dm_mapsize, CCDMA_BUS_DMASYNC_PREWRITE);
	if (rc)
		BD_FAIL(line, "sync PREWRITE: %d", rc);
	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		if (off + s->ds_len > n) {
			BD_FAIL(line, "segment %d runs past the transfer", i);
			return bad;
		}
		memset(tmp, 0, s->ds_len);
		rc = ccdma_dev_read(d, s->ds_addr, tmp, s->ds_len);
		if (rc) {
			BD_FAIL(line, "segment %d: device read of %#llx+%zu: %d", i,
				(unsigned long long)s->ds_addr, s->ds_len, rc);
		} else if (memcmp(tmp, ra + off, s->ds_len)) {
			for (k = 0; k < s->ds_len; k++)
				if (tmp[k] != ra[off + k])
					break;
			BD_FAIL(line, "segment %d: the device reads byte %llu of the "
				"transfer as %#x, expected %#x", i,
				(unsigned long long)(off + k), tmp[k], ra[off + k]);
		}
		off += s->ds_len;
	}
	rc = ccdma_bus_dmamap_sync(t, m, 0, m->dm_mapsize, CCDMA_BUS_DMASYNC_POSTWRITE);
	if (rc)
		BD_FAIL(line, "sync POSTWRITE: %d", rc);
	rc = ccdma_bus_dmamap_sync(t, m, 0, m->dm_mapsize, CCDMA_BUS_DMASYNC_PREREAD);
	if (rc)
		BD_FAIL(line, "sync PREREAD: %d", rc);
	off = 0;
	for (i = 0; i < m->dm_nsegs; i++) {
		const ccdma_bus_dma_segment_t *s = &m->dm_segs[i];

		rc = ccdma_dev_write(d, s->ds_addr, rb + off, s->ds_len);
		if (rc)
			BD_FAIL(line, "segment %d: device write of %#llx+%zu: %d", i,
				(unsigned long long)s->ds_addr, s->ds_len, rc);
		off += s->ds_len;
	}
	/* Bounced pieces keep the CPU's bytes until POSTREAD. */
	at = bd_holds_ref(p, np, ra, 1);
	if (at >= 0)
		BD_FAIL(line, "byte %lld of a bounced piece changed before POSTREAD",
			at);
	rc = ccdma_bus_dmamap_sync(t, m, 0, m->dm_mapsize, CCDMA_BUS_DMASYNC_POSTREAD);
	if (rc)
		BD_FAIL(line, "sync POSTREAD: %d", rc);
	at = bd_holds_ref(p, np, rb, -1);
	if (at >= 0) {
		unsigned char *b = bd_byte(p, np, (uint64_t)at);

		BD_FAIL(line, "after POSTREAD byte %lld of the transfer is %#x, the "
			"device wrote %#x", at, b ? *b : 0, rb[at]);
	}
	test_failures += bad;
	return bad;
}

#endif
