/* SPDX-License-Identifier: MIT */
/*
 * ccdma-bench busdma: the bus_dma(9) front-end (include/ccdma/busdma.h),
 * its time per transfer and the shared memory its maps hold.
 *
 *  [1] time, 4 KiB, confidential-mode device, page-aligned private buffer
 *      (so it is bounced), one segment: ccdma_bus_dmamap_load + sync
 *      PREWRITE + sync POSTWRITE + unload
 *        - on a lazy map (bounce taken at load, given back at unload)
 *          -> load_sync_unload_4k_ns
 *        - on an ALLOCNOW map (bounce reserved at create)
 *          -> load_sync_unload_4k_allocnow_ns
 *      beside, on the same device and buffer: ccdma_map_single TO_DEVICE +
 *      ccdma_unmap_single -> dma_map_unmap_4k_ns; and a plain memcpy of
 *      the 4 KiB into the bounce slot (a pool slot of the same class, taken
 *      before each batch and freed after it, untimed: the thread cache is
 *      LIFO, so it is the slot the lazy load uses; checked)
 *      -> memcpy_4k_ns.  busdma_vs_dma_4k = lazy cycle / dma map+unmap.
 *      The ALLOCNOW cycle copies into its reservation, another page, so
 *      its overhead is taken over a memcpy into that page (on some runs
 *      one page of the pool copies measurably slower than another).
 *      Informational: the same cycles without the two syncs (no copy),
 *      which isolate what load + unload cost.
 *  [2] shared memory reserved per map, for a 2 KiB map (1 segment), a
 *      64 KiB map of 17 segments and a 1 MiB map of 257 segments: N maps
 *      are created with ALLOCNOW and the rise of the pool's in_use_bytes
 *      (ccdma_pool_get_stats: live allocations rounded to their slot or
 *      page) is divided by N; on a dense tag, on a tag with
 *      CCDMA_BUS_DMA_TAG_ISOLATE, and on a tag aligned to 4096 (whose
 *      ALLOCNOW reservation holds (nsegments - 1) * 4095 bytes of padding).  Lazy maps likewise, idle (nothing
 *      loaded: 0 by design) and, informational, while each holds a load of
 *      its full size.  Beside: OpenBSD's SEV rule,
 *      bl_openbsd_sev_map_pages(size, nsegments) * BL_PAGE_SIZE, checked
 *      against the model pool in bench/baselines (its reserved_bytes over
 *      N maps).
 *  [3] isolation cost for small maps: bytes reserved per ALLOCNOW map of
 *      256, 512, 1024 and 2048 bytes (1 segment), dense vs isolated, as in
 *      [2].
 *
 * [1] is timed in batches with CLOCK_MONOTONIC; its series are interleaved
 * batch by batch in rotating order and every figure is a median over
 * batches.  [2] and [3] are exact counts.  One pool (no grower, made at
 * creation) serves the device; the sharing cost is set to 0.
 */
#define _POSIX_C_SOURCE 200809L

#include "bench.h"
#include "baselines.h"

#include <ccdma/busdma.h>
#include <ccdma/dma.h>
#include <ccdma/platform.h>
#include <ccdma/pool.h>

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KIB ((size_t)1024)
#define MIB ((size_t)1024 * 1024)
#define POOL_BYTES (48 * MIB)
#define LEN4K ((size_t)4096)

static int internal_errors;

#define INTERNAL(...)                                                       \
	do {                                                                \
		internal_errors++;                                          \
		fprintf(stderr, "ccdma-bench busdma: error: " __VA_ARGS__); \
		fputc('\n', stderr);                                        \
	} while (0)

/* ------------------------------------------------------------------ */
/* Statistics.                                                         */


/* ------------------------------------------------------------------ */
/* Timed loops: one batch of n operations, elapsed ns.                 */


/* load, [sync PREWRITE, sync POSTWRITE,] unload: as a driver sends a
 * buffer to the device.  The last bounce address goes to *bounce. */
static __attribute__((noinline)) uint64_t
t_busdma_cycle(ccdma_bus_dma_tag_t tag, ccdma_bus_dmamap_t map, void *buf,
	       size_t len, bool sync, unsigned n, uintptr_t *bounce)
{
	uint64_t t0 = bench_now_ns();
	int bad = 0, rc = 0;

	for (unsigned i = 0; i < n; i++) {
		rc = ccdma_bus_dmamap_load(tag, map, buf, len, NULL,
					   CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_WRITE);
		if (__builtin_expect(rc != 0, 0))
			break;
		if (sync) {
			bad |= ccdma_bus_dmamap_sync(tag, map, 0, len,
						     CCDMA_BUS_DMASYNC_PREWRITE);
			bad |= ccdma_bus_dmamap_sync(tag, map, 0, len,
						     CCDMA_BUS_DMASYNC_POSTWRITE);
		}
		*bounce = map->dm_segs[0]._ds_bounce_va;
		bad |= ccdma_bus_dmamap_unload(tag, map);
	}
	t0 = bench_now_ns() - t0;
	if (rc)
		INTERNAL("bus_dmamap_load(%zu bytes) = %d (%s)", len, rc, strerror(rc));
	if (bad)
		INTERNAL("bus_dmamap_sync/unload(%zu bytes) failed: %d", len, bad);
	return t0;
}

static __attribute__((noinline)) uint64_t
t_map_unmap(struct ccdma_dev *d, void *buf, size_t len, unsigned n)
{
	ccdma_addr_t a = CCDMA_MAPPING_ERROR;
	uint64_t t0 = bench_now_ns();
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		a = ccdma_map_single(d, buf, len, CCDMA_TO_DEVICE);
		if (__builtin_expect(a == CCDMA_MAPPING_ERROR, 0))
			break;
		bad |= ccdma_unmap_single(d, a, len, CCDMA_TO_DEVICE);
	}
	t0 = bench_now_ns() - t0;
	if (a == CCDMA_MAPPING_ERROR)
		INTERNAL("map_single(%zu bytes, TO_DEVICE) failed: %d", len,
			 ccdma_mapping_error(d, a));
	if (bad)
		INTERNAL("unmap_single(%zu bytes) failed: %d", len, bad);
	return t0;
}


/* ------------------------------------------------------------------ */
/* Interleaved series.                                                 */

enum job_kind {
	J_BUSDMA,          /* load + PREWRITE + POSTWRITE + unload */
	J_BUSDMA_NOSYNC,   /* load + unload */
	J_DMA,             /* map_single + unmap_single, TO_DEVICE */
	J_MEMCPY_SLOT,     /* memcpy into a pool slot taken for the batch */
	J_MEMCPY_BOUNCE,   /* memcpy into the partner's last bounce */
};

struct job {
	const char *name;
	enum job_kind kind;
	ccdma_bus_dma_tag_t tag;
	ccdma_bus_dmamap_t map;
	struct ccdma_dev *dev;
	struct ccdma_pool *pool;
	void *buf;
	size_t len;
	const struct job *partner; /* memcpy: the cycle whose bounce it copies to */
	/* results */
	double *ns;                /* per operation, one per sample */
	double med;
	uintptr_t bounce;          /* busdma jobs: last bounce address */
	unsigned slot_checks, same_slot;
};

static uint64_t job_run(struct job *j, unsigned n)
{
	uint64_t dt;
	void *slot;
	int rc;

	switch (j->kind) {
	case J_BUSDMA:
	case J_BUSDMA_NOSYNC:
		return t_busdma_cycle(j->tag, j->map, j->buf, j->len,
				      j->kind == J_BUSDMA, n, &j->bounce);
	case J_DMA:
		return t_map_unmap(j->dev, j->buf, j->len, n);
	case J_MEMCPY_SLOT:
		rc = ccdma_pool_alloc(j->pool, j->len, CCDMA_POOL_NOWAIT, &slot);
		if (rc) {
			INTERNAL("ccdma_pool_alloc(%zu) = %d", j->len, rc);
			return 0;
		}
		dt = bench_time_memcpy(slot, j->buf, j->len, n);
		if (j->partner && j->partner->bounce) {
			j->slot_checks++;
			if (j->partner->bounce == (uintptr_t)slot)
				j->same_slot++;
		}
		rc = ccdma_pool_free(j->pool, slot, j->len);
		if (rc)
			INTERNAL("ccdma_pool_free(%zu) = %d", j->len, rc);
		return dt;
	case J_MEMCPY_BOUNCE:
		/* The partner ran first (warm-up), so its bounce is known. */
		if (!j->partner->bounce) {
			INTERNAL("%s: no bounce address yet", j->name);
			return 0;
		}
		return bench_time_memcpy((void *)j->partner->bounce, j->buf, j->len, n);
	}
	return 0;
}

/* Warm every job up, then time `samples` batches of `batch` operations of
 * each, interleaved in rotating order; j->med gets the median ns per op. */
static int interleave(struct job *jobs, unsigned njobs, unsigned samples,
		      unsigned batch, unsigned warm)
{
	for (unsigned k = 0; k < njobs; k++) {
		jobs[k].ns = calloc(samples, sizeof(double));
		if (!jobs[k].ns) {
			INTERNAL("out of memory");
			return -ENOMEM;
		}
	}
	for (unsigned w = 0; w < warm; w++)
		for (unsigned k = 0; k < njobs; k++)
			job_run(&jobs[k], batch);
	for (unsigned k = 0; k < njobs; k++)
		jobs[k].slot_checks = jobs[k].same_slot = 0;
	for (unsigned s = 0; s < samples && !internal_errors; s++) {
		for (unsigned i = 0; i < njobs; i++) {
			struct job *j = &jobs[(i + s) % njobs];

			j->ns[s] = (double)job_run(j, batch) / batch;
		}
	}
	for (unsigned k = 0; k < njobs; k++) {
		jobs[k].med = bench_median(jobs[k].ns, samples);
		free(jobs[k].ns);
		jobs[k].ns = NULL;
	}
	return internal_errors ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Setup.                                                              */

struct params {
	bool quick, json;
	unsigned samples, batch, warm;
};

#define A4K 4096                       /* the aligned tag's alignment */

struct env {
	struct ccdma_pool *pool;
	struct ccdma_dev *dev;         /* confidential mode */
	ccdma_bus_dma_tag_t dense, iso; /* root tags: plain, ISOLATE */
	ccdma_bus_dma_tag_t a4k;       /* root tag with alignment 4096 */
	unsigned env_debug;
	size_t page;                   /* the OS page: ISOLATE's unit */
	unsigned char *src;            /* private, page aligned, 1 MiB */
};

static int env_setup(struct env *e)
{
	struct ccdma_bus_dma_tag_config tc;
	struct ccdma_pool_config pc;
	struct ccdma_dev_config dc;
	unsigned old;
	long pg;
	int rc;

	memset(e, 0, sizeof(*e));
	e->env_debug = ccdma_debug_get();
	pg = sysconf(_SC_PAGESIZE);
	e->page = pg > 0 ? (size_t)pg : 4096;
	ccdma_pool_config_init(&pc);
	pc.name = "bench-busdma";
	pc.initial_bytes = POOL_BYTES;
	pc.flags = CCDMA_POOL_F_NO_GROWER;
	rc = ccdma_pool_create(&pc, &e->pool);
	if (rc) {
		INTERNAL("ccdma_pool_create(%zu MiB) = %d (%s)", POOL_BYTES / MIB, rc,
			 strerror(-rc));
		return rc;
	}
	ccdma_dev_config_init(&dc);
	dc.name = "busdma-conf";
	dc.mode = CCDMA_MODE_CONFIDENTIAL;
	dc.pool = e->pool;
	/* The figures are for the checker off, as drivers run. */
	old = ccdma_debug_set(0);
	rc = ccdma_dev_create(&dc, &e->dev);
	ccdma_debug_set(old);
	if (rc) {
		INTERNAL("ccdma_dev_create = %d (%s)", rc, strerror(-rc));
		e->dev = NULL;
		return rc;
	}
	rc = ccdma_bus_dma_tag_create(e->dev, NULL, NULL, &e->dense);
	if (rc) {
		INTERNAL("bus_dma_tag_create(dense) = %d", rc);
		return -rc;
	}
	memset(&tc, 0, sizeof(tc));
	tc.flags = CCDMA_BUS_DMA_TAG_ISOLATE;
	rc = ccdma_bus_dma_tag_create(e->dev, NULL, &tc, &e->iso);
	if (rc) {
		INTERNAL("bus_dma_tag_create(ISOLATE) = %d", rc);
		return -rc;
	}
	memset(&tc, 0, sizeof(tc));
	tc.alignment = A4K;
	rc = ccdma_bus_dma_tag_create(e->dev, NULL, &tc, &e->a4k);
	if (rc) {
		INTERNAL("bus_dma_tag_create(alignment %d) = %d", A4K, rc);
		return -rc;
	}
	e->src = aligned_alloc(e->page > 4096 ? e->page : 4096, MIB);
	if (!e->src) {
		INTERNAL("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < MIB; i++)
		e->src[i] = (unsigned char)(i * 131 + 7);
	return 0;
}

static void env_teardown(struct env *e)
{
	if (e->a4k && ccdma_bus_dma_tag_destroy(e->a4k))
		INTERNAL("bus_dma_tag_destroy(alignment %d) failed", A4K);
	if (e->iso && ccdma_bus_dma_tag_destroy(e->iso))
		INTERNAL("bus_dma_tag_destroy(ISOLATE) failed");
	if (e->dense && ccdma_bus_dma_tag_destroy(e->dense))
		INTERNAL("bus_dma_tag_destroy(dense) failed");
	if (e->dev && ccdma_dev_destroy(e->dev))
		INTERNAL("ccdma_dev_destroy: mappings left behind");
	ccdma_pool_destroy(e->pool);
	free(e->src);
}

static int pool_stats(struct env *e, struct ccdma_pool_stats *st)
{
	int rc = ccdma_pool_get_stats(e->pool, st);

	if (rc)
		INTERNAL("ccdma_pool_get_stats = %d", rc);
	return rc;
}

/* ------------------------------------------------------------------ */
/* [1] time per 4 KiB transfer.                                        */

struct time_result {
	double lazy_ns, allocnow_ns, dma_ns, memcpy_ns;
	double memcpy_resv_ns;        /* into the ALLOCNOW map's reservation */
	double lazy_nosync_ns, allocnow_nosync_ns;
	double ratio, ratio_allocnow;
	unsigned same_slot, slot_checks;
	unsigned nsegs;               /* of the checked load */
};

/* One load of `map`, checked: one segment, bounced, the bytes copied by
 * PREWRITE, the map unloaded after. */
static void check_cycle(struct env *e, ccdma_bus_dma_tag_t tag,
			ccdma_bus_dmamap_t map, const char *what, unsigned *nsegs)
{
	const ccdma_bus_dma_segment_t *s = &map->dm_segs[0];
	int rc;

	rc = ccdma_bus_dmamap_load(tag, map, e->src, LEN4K, NULL,
				   CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_WRITE);
	if (rc) {
		INTERNAL("%s: bus_dmamap_load(4 KiB) = %d (%s)", what, rc, strerror(rc));
		return;
	}
	*nsegs = (unsigned)map->dm_nsegs;
	if (map->dm_nsegs != 1 || s->ds_len != LEN4K || map->dm_mapsize != LEN4K)
		INTERNAL("%s: 4 KiB loaded in %d segments (first %zu bytes), not one",
			 what, map->dm_nsegs, (size_t)s->ds_len);
	else if (!s->_ds_bounce_va || s->_ds_va != (uintptr_t)e->src)
		INTERNAL("%s: the private buffer was not bounced", what);
	else if (ccdma_bus_dmamap_sync(tag, map, 0, LEN4K, CCDMA_BUS_DMASYNC_PREWRITE) ||
		 memcmp((const void *)s->_ds_bounce_va, e->src, LEN4K))
		INTERNAL("%s: PREWRITE did not copy the buffer to its bounce", what);
	else if (ccdma_bus_dmamap_sync(tag, map, 0, LEN4K, CCDMA_BUS_DMASYNC_POSTWRITE))
		INTERNAL("%s: POSTWRITE failed", what);
	rc = ccdma_bus_dmamap_unload(tag, map);
	if (rc)
		INTERNAL("%s: bus_dmamap_unload = %d", what, rc);
}

static int sec_time(const struct params *P, struct env *e, struct time_result *r)
{
	ccdma_bus_dmamap_t lazy = NULL, now = NULL;
	struct ccdma_pool_stats a, b;
	struct job j[7];
	unsigned n1 = 0, n2 = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	rc = ccdma_bus_dmamap_create(e->dense, LEN4K, 1, 0, 0, CCDMA_BUS_DMA_NOWAIT, &lazy);
	if (!rc)
		rc = ccdma_bus_dmamap_create(e->dense, LEN4K, 1, 0, 0,
					     CCDMA_BUS_DMA_NOWAIT | CCDMA_BUS_DMA_ALLOCNOW,
					     &now);
	if (rc) {
		INTERNAL("bus_dmamap_create(4 KiB) = %d (%s)", rc, strerror(rc));
		goto out;
	}
	check_cycle(e, e->dense, lazy, "lazy map", &n1);
	check_cycle(e, e->dense, now, "ALLOCNOW map", &n2);
	r->nsegs = n1 > n2 ? n1 : n2;
	if (internal_errors)
		goto out;

	memset(j, 0, sizeof(j));
	j[0] = (struct job){ .name = "busdma lazy", .kind = J_BUSDMA, .tag = e->dense,
			     .map = lazy, .buf = e->src, .len = LEN4K };
	j[1] = (struct job){ .name = "busdma ALLOCNOW", .kind = J_BUSDMA,
			     .tag = e->dense, .map = now, .buf = e->src, .len = LEN4K };
	j[2] = (struct job){ .name = "dma map+unmap", .kind = J_DMA, .dev = e->dev,
			     .buf = e->src, .len = LEN4K };
	j[3] = (struct job){ .name = "memcpy into the slot", .kind = J_MEMCPY_SLOT,
			     .pool = e->pool, .buf = e->src, .len = LEN4K,
			     .partner = &j[0] };
	j[4] = (struct job){ .name = "busdma lazy, no sync", .kind = J_BUSDMA_NOSYNC,
			     .tag = e->dense, .map = lazy, .buf = e->src, .len = LEN4K };
	j[5] = (struct job){ .name = "busdma ALLOCNOW, no sync",
			     .kind = J_BUSDMA_NOSYNC, .tag = e->dense, .map = now,
			     .buf = e->src, .len = LEN4K };
	/* The same copy into the ALLOCNOW reservation, which is another page
	 * than the slot: on some runs one page copies slower than another
	 * (placement; seen on the EPYC used for docs/performance.md). */
	j[6] = (struct job){ .name = "memcpy into the reservation",
			     .kind = J_MEMCPY_BOUNCE, .buf = e->src, .len = LEN4K,
			     .partner = &j[1] };
	if (pool_stats(e, &a))
		goto out;
	rc = interleave(j, 7, P->samples, P->batch, P->warm);
	if (pool_stats(e, &b))
		goto out;
	/* Every lazy load took one bounce and every unload gave it back;
	 * the ALLOCNOW map took none. */
	if (!rc && b.in_use_bytes != a.in_use_bytes)
		INTERNAL("the timed loops left %lld bytes of the pool in use",
			 (long long)(b.in_use_bytes - a.in_use_bytes));
	r->lazy_ns = j[0].med;
	r->allocnow_ns = j[1].med;
	r->dma_ns = j[2].med;
	r->memcpy_ns = j[3].med;
	r->lazy_nosync_ns = j[4].med;
	r->allocnow_nosync_ns = j[5].med;
	r->memcpy_resv_ns = j[6].med;
	r->ratio = r->lazy_ns / r->dma_ns;
	r->ratio_allocnow = r->allocnow_ns / r->dma_ns;
	r->same_slot = j[3].same_slot;
	r->slot_checks = j[3].slot_checks;
out:
	if (lazy && ccdma_bus_dmamap_destroy(e->dense, lazy))
		INTERNAL("bus_dmamap_destroy(lazy) failed");
	if (now && ccdma_bus_dmamap_destroy(e->dense, now))
		INTERNAL("bus_dmamap_destroy(ALLOCNOW) failed");
	return internal_errors ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* [2], [3] reserved bytes per map.                                    */

enum resv_mode { R_ALLOCNOW, R_LAZY_IDLE, R_LAZY_LOADED };

struct resv {
	double per_map;      /* bytes */
	uint64_t total;      /* rise of in_use_bytes over n maps */
	unsigned n;
};

/*
 * Create n maps of `size` bytes and `nseg` segments on `tag` (ALLOCNOW, or
 * lazy, idle or each loaded with `size` bytes of the private buffer), and
 * measure the rise of the pool's in_use_bytes; then destroy them and check
 * that the pool is back where it was.
 */
static int measure_resv(struct env *e, ccdma_bus_dma_tag_t tag, size_t size,
			int nseg, enum resv_mode mode, unsigned n, struct resv *out)
{
	ccdma_bus_dmamap_t *maps = calloc(n, sizeof(*maps));
	struct ccdma_pool_stats a, b, c;
	int flags = CCDMA_BUS_DMA_NOWAIT;
	unsigned made = 0, loaded = 0;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!maps) {
		INTERNAL("out of memory");
		return -ENOMEM;
	}
	if (mode == R_ALLOCNOW)
		flags |= CCDMA_BUS_DMA_ALLOCNOW;
	if (pool_stats(e, &a))
		goto out;
	for (; made < n; made++) {
		rc = ccdma_bus_dmamap_create(tag, size, nseg, 0, 0, flags, &maps[made]);
		if (rc) {
			INTERNAL("bus_dmamap_create(%zu bytes, %d segments, %s) = %d (%s)",
				 size, nseg, mode == R_ALLOCNOW ? "ALLOCNOW" : "lazy",
				 rc, strerror(rc));
			goto out;
		}
	}
	if (mode == R_LAZY_LOADED) {
		for (; loaded < n; loaded++) {
			rc = ccdma_bus_dmamap_load(tag, maps[loaded], e->src, size, NULL,
						   CCDMA_BUS_DMA_NOWAIT |
						   CCDMA_BUS_DMA_WRITE);
			if (rc) {
				INTERNAL("bus_dmamap_load(%zu bytes, %d segments) = %d (%s)",
					 size, nseg, rc, strerror(rc));
				goto out;
			}
		}
	}
	if (pool_stats(e, &b))
		goto out;
	out->n = n;
	out->total = b.in_use_bytes - a.in_use_bytes;
	out->per_map = (double)out->total / n;
out:
	while (loaded)
		if (ccdma_bus_dmamap_unload(tag, maps[--loaded]))
			INTERNAL("bus_dmamap_unload failed");
	while (made)
		if (ccdma_bus_dmamap_destroy(tag, maps[--made]))
			INTERNAL("bus_dmamap_destroy failed");
	free(maps);
	if (!internal_errors && !pool_stats(e, &c) && c.in_use_bytes != a.in_use_bytes)
		INTERNAL("%zu-byte maps: %lld bytes of the pool still in use after "
			 "destroying them", size, (long long)(c.in_use_bytes - a.in_use_bytes));
	return internal_errors ? -EIO : 0;
}

/* OpenBSD's SEV rule: the formula, checked against the model pool. */
static size_t openbsd_bytes(size_t size, unsigned nseg, unsigned n)
{
	size_t rule = bl_openbsd_sev_map_pages(size, nseg) * BL_PAGE_SIZE, got;
	size_t pages = bl_openbsd_sev_map_pages(size, nseg) * n;
	uint64_t *off = calloc(n, sizeof(*off));
	void *h = bl_openbsd_sev.create((pages + 16) * BL_PAGE_SIZE);
	unsigned k = 0;

	if (!h || !off) {
		INTERNAL("OpenBSD model: out of memory");
		goto out;
	}
	bl_openbsd_sev_set_nsegments(h, nseg);
	for (; k < n; k++) {
		if (bl_openbsd_sev.alloc(h, size, 0, 0, 0, &off[k])) {
			INTERNAL("OpenBSD model: map %u of %zu bytes refused", k, size);
			goto out;
		}
	}
	got = bl_openbsd_sev.reserved_bytes(h);
	if (got != rule * n)
		INTERNAL("OpenBSD model: %zu bytes for %u maps of %zu bytes, the rule "
			 "says %zu each", got, n, size, rule);
out:
	while (h && k)
		bl_openbsd_sev.free(h, off[--k], size);
	if (h)
		bl_openbsd_sev.destroy(h);
	free(off);
	return rule;
}

struct map_shape {
	const char *key;
	size_t size;
	int nseg;
	unsigned n;          /* maps created at once */
};

static const struct map_shape shapes[] = {
	{ "2k", 2 * KIB, 1, 256 },
	{ "64k_17seg", 64 * KIB, 17, 64 },
	{ "1m", MIB, 257, 16 },
};
#define NSHAPE (sizeof(shapes) / sizeof(shapes[0]))

static const size_t iso_sizes[] = { 256, 512, 1024, 2048 };
#define NISO (sizeof(iso_sizes) / sizeof(iso_sizes[0]))

struct shape_result {
	struct resv allocnow, isolate, lazy_idle, lazy_loaded;
	struct resv allocnow_a4k;    /* ALLOCNOW on the tag aligned to A4K */
	size_t openbsd;
	double ratio_openbsd, ratio_openbsd_iso;
};

struct iso_result {
	struct resv dense, isolate;
	size_t openbsd;
	double ratio;        /* isolate / dense */
};

static int sec_resv(struct env *e, struct shape_result *sr, struct iso_result *ir)
{
	for (size_t s = 0; s < NSHAPE && !internal_errors; s++) {
		const struct map_shape *m = &shapes[s];
		struct shape_result *r = &sr[s];

		measure_resv(e, e->dense, m->size, m->nseg, R_ALLOCNOW, m->n, &r->allocnow);
		measure_resv(e, e->iso, m->size, m->nseg, R_ALLOCNOW, m->n, &r->isolate);
		measure_resv(e, e->a4k, m->size, m->nseg, R_ALLOCNOW, m->n,
			     &r->allocnow_a4k);
		measure_resv(e, e->dense, m->size, m->nseg, R_LAZY_IDLE, m->n, &r->lazy_idle);
		measure_resv(e, e->dense, m->size, m->nseg, R_LAZY_LOADED, m->n,
			     &r->lazy_loaded);
		r->openbsd = openbsd_bytes(m->size, (unsigned)m->nseg, m->n);
		r->ratio_openbsd = (double)r->openbsd / r->allocnow.per_map;
		r->ratio_openbsd_iso = (double)r->openbsd / r->isolate.per_map;
		if (internal_errors)
			break;
		if (r->allocnow.per_map < (double)m->size ||
		    r->isolate.per_map < r->allocnow.per_map ||
		    r->allocnow_a4k.per_map <
			    (double)(m->size + (size_t)(m->nseg - 1) * (A4K - 1)))
			INTERNAL("%s: %.0f bytes reserved per ALLOCNOW map (%.0f isolated, "
				 "%.0f aligned to %d) for %zu bytes", m->key,
				 r->allocnow.per_map, r->isolate.per_map,
				 r->allocnow_a4k.per_map, A4K, m->size);
	}
	for (size_t s = 0; s < NISO && !internal_errors; s++) {
		struct iso_result *r = &ir[s];

		measure_resv(e, e->dense, iso_sizes[s], 1, R_ALLOCNOW, 256, &r->dense);
		measure_resv(e, e->iso, iso_sizes[s], 1, R_ALLOCNOW, 256, &r->isolate);
		r->openbsd = openbsd_bytes(iso_sizes[s], 1, 256);
		r->ratio = r->isolate.per_map / r->dense.per_map;
		if (!internal_errors &&
		    (r->dense.per_map < (double)iso_sizes[s] ||
		     r->isolate.per_map < (double)e->page))
			INTERNAL("%zu-byte maps: %.0f bytes reserved per map dense, %.0f "
				 "isolated (a page is %zu)", iso_sizes[s], r->dense.per_map,
				 r->isolate.per_map, e->page);
	}
	return internal_errors ? -EIO : 0;
}

/* ------------------------------------------------------------------ */
/* Output.                                                             */

struct results {
	struct time_result t;
	struct shape_result sh[NSHAPE];
	struct iso_result iso[NISO];
	double elapsed, time_s, resv_s;
};

static uint64_t bytes_of(const struct resv *r)
{
	return (uint64_t)llround(r->per_map);
}

static void print_human(FILE *f, const struct params *P, const struct env *e,
			const struct results *R)
{
	const struct time_result *t = &R->t;

	fprintf(f, "ccdma-bench busdma (%s): the bus_dma(9) front-end, time per 4 KiB "
		   "transfer and shared memory per map\n", P->quick ? "quick" : "full");
	fprintf(f, "sharing cost: set to 0; one pool of %zu MiB, no grower; page %zu "
		   "bytes; OpenBSD pages %u bytes\n", POOL_BYTES / MIB, e->page,
		BL_PAGE_SIZE);
	if (e->env_debug)
		fprintf(f, "note: CCDMA_DEBUG is set; the device was created with the "
			   "checker off\n");

	fprintf(f, "\n[1] 4 KiB private buffer, confidential device, bounced in %u "
		   "segment (median of %u batches of %u)\n", t->nsegs, P->samples,
		P->batch);
	fprintf(f, "  %-48s %9s %11s\n", "", "ns", "- memcpy");
	fprintf(f, "  %-48s %9.1f %11.1f   load_sync_unload_4k_ns\n",
		"busdma load+PREWRITE+POSTWRITE+unload, lazy", t->lazy_ns,
		t->lazy_ns - t->memcpy_ns);
	fprintf(f, "  %-48s %9.1f %11.1f   load_sync_unload_4k_allocnow_ns (*)\n",
		"  the same, ALLOCNOW map", t->allocnow_ns, t->allocnow_ns - t->memcpy_resv_ns);
	fprintf(f, "  %-48s %9.1f %11.1f   dma_map_unmap_4k_ns\n",
		"dma map_single TO_DEVICE + unmap_single", t->dma_ns,
		t->dma_ns - t->memcpy_ns);
	fprintf(f, "  %-48s %9.1f %11s   memcpy_4k_ns\n", "memcpy 4 KiB into the bounce slot",
		t->memcpy_ns, "");
	fprintf(f, "  %-48s %9.1f\n", "(*) memcpy 4 KiB into the ALLOCNOW reservation",
		t->memcpy_resv_ns);
	fprintf(f, "  %-48s %9.1f\n", "busdma load+unload only (no sync), lazy",
		t->lazy_nosync_ns);
	fprintf(f, "  %-48s %9.1f\n", "busdma load+unload only (no sync), ALLOCNOW",
		t->allocnow_nosync_ns);
	fprintf(f, "  busdma_vs_dma_4k = %.3f (ALLOCNOW %.3f); memcpy slot = lazy bounce "
		   "slot in %u of %u checks\n", t->ratio, t->ratio_allocnow, t->same_slot,
		t->slot_checks);

	fprintf(f, "\n[2] shared memory reserved per map (bytes; pool in_use rise over N "
		   "maps; OpenBSD: max(pages + 1, nsegments) pages)\n");
	fprintf(f, "  %-10s %5s %4s %9s %9s %9s %9s %11s %9s %8s %8s\n", "map", "nsegs",
		"N", "ALLOCNOW", "A=4096", "ISOLATE", "lazy idle", "lazy loaded", "OpenBSD",
		"OBSD/ccd", "OBSD/iso");
	for (size_t s = 0; s < NSHAPE; s++) {
		const struct shape_result *r = &R->sh[s];

		fprintf(f, "  %-10s %5d %4u %9llu %9llu %9llu %9llu %11llu %9zu %8.3f %8.3f\n",
			shapes[s].key, shapes[s].nseg, shapes[s].n,
			(unsigned long long)bytes_of(&r->allocnow),
			(unsigned long long)bytes_of(&r->allocnow_a4k),
			(unsigned long long)bytes_of(&r->isolate),
			(unsigned long long)bytes_of(&r->lazy_idle),
			(unsigned long long)bytes_of(&r->lazy_loaded), r->openbsd,
			r->ratio_openbsd, r->ratio_openbsd_iso);
	}

	fprintf(f, "\n[3] isolation cost, ALLOCNOW maps of one segment (bytes per map, "
		   "N = 256)\n");
	fprintf(f, "  %6s %8s %8s %9s %8s\n", "size", "dense", "ISOLATE", "iso/dense",
		"OpenBSD");
	for (size_t s = 0; s < NISO; s++) {
		const struct iso_result *r = &R->iso[s];

		fprintf(f, "  %6zu %8llu %8llu %9.2f %8zu\n", iso_sizes[s],
			(unsigned long long)bytes_of(&r->dense),
			(unsigned long long)bytes_of(&r->isolate), r->ratio, r->openbsd);
	}
	fprintf(f, "\nelapsed %.1f s ([1] %.1f, [2]+[3] %.2f)\n", R->elapsed, R->time_s,
		R->resv_s);
}

static void print_json(FILE *f, const struct params *P, const struct env *e,
		       const struct results *R)
{
	const struct time_result *t = &R->t;
	struct bench_json j;
	char key[64];

	bench_json_begin(&j, f);
	bench_json_obj(&j, NULL);
	bench_json_str(&j, "benchmark", "busdma");
	bench_json_bool(&j, "quick", P->quick);
	bench_json_u64(&j, "share_cost_ns", ccdma_share_cost_get_ns());
	bench_json_u64(&j, "page_size", e->page);
	bench_json_num(&j, "load_sync_unload_4k_ns", t->lazy_ns);
	bench_json_num(&j, "load_sync_unload_4k_allocnow_ns", t->allocnow_ns);
	bench_json_num(&j, "dma_map_unmap_4k_ns", t->dma_ns);
	bench_json_num(&j, "memcpy_4k_ns", t->memcpy_ns);
	bench_json_num(&j, "busdma_vs_dma_4k", t->ratio);
	bench_json_num(&j, "busdma_allocnow_vs_dma_4k", t->ratio_allocnow);
	for (size_t s = 0; s < NSHAPE; s++) {
		const struct shape_result *r = &R->sh[s];
		const char *k = shapes[s].key;

		snprintf(key, sizeof(key), "reserved_%s_allocnow", k);
		bench_json_u64(&j, key, bytes_of(&r->allocnow));
		snprintf(key, sizeof(key), "reserved_%s_allocnow_align4k", k);
		bench_json_u64(&j, key, bytes_of(&r->allocnow_a4k));
		snprintf(key, sizeof(key), "reserved_%s_isolate", k);
		bench_json_u64(&j, key, bytes_of(&r->isolate));
		snprintf(key, sizeof(key), "reserved_%s_lazy_idle", k);
		bench_json_u64(&j, key, bytes_of(&r->lazy_idle));
		snprintf(key, sizeof(key), "reserved_%s_lazy_loaded", k);
		bench_json_u64(&j, key, bytes_of(&r->lazy_loaded));
		snprintf(key, sizeof(key), "reserved_%s_openbsd", k);
		bench_json_u64(&j, key, r->openbsd);
		snprintf(key, sizeof(key), "ratio_%s_openbsd_over_ccdma", k);
		bench_json_num(&j, key, r->ratio_openbsd);
		snprintf(key, sizeof(key), "ratio_%s_openbsd_over_isolate", k);
		bench_json_num(&j, key, r->ratio_openbsd_iso);
	}
	for (size_t s = 0; s < NISO; s++) {
		const struct iso_result *r = &R->iso[s];

		snprintf(key, sizeof(key), "isolation_%zu_dense", iso_sizes[s]);
		bench_json_u64(&j, key, bytes_of(&r->dense));
		snprintf(key, sizeof(key), "isolation_%zu_isolate", iso_sizes[s]);
		bench_json_u64(&j, key, bytes_of(&r->isolate));
		snprintf(key, sizeof(key), "isolation_%zu_openbsd", iso_sizes[s]);
		bench_json_u64(&j, key, r->openbsd);
	}

	bench_json_obj(&j, "time_4k");
	bench_json_u64(&j, "samples", P->samples);
	bench_json_u64(&j, "batch", P->batch);
	bench_json_u64(&j, "segments", t->nsegs);
	bench_json_num(&j, "lazy_ns", t->lazy_ns);
	bench_json_num(&j, "allocnow_ns", t->allocnow_ns);
	bench_json_num(&j, "dma_ns", t->dma_ns);
	bench_json_num(&j, "memcpy_ns", t->memcpy_ns);
	bench_json_num(&j, "lazy_over_memcpy_ns", t->lazy_ns - t->memcpy_ns);
	bench_json_num(&j, "memcpy_reservation_ns", t->memcpy_resv_ns);
	bench_json_num(&j, "allocnow_over_memcpy_ns", t->allocnow_ns - t->memcpy_resv_ns);
	bench_json_num(&j, "dma_over_memcpy_ns", t->dma_ns - t->memcpy_ns);
	bench_json_num(&j, "lazy_load_unload_no_sync_ns", t->lazy_nosync_ns);
	bench_json_num(&j, "allocnow_load_unload_no_sync_ns", t->allocnow_nosync_ns);
	bench_json_u64(&j, "memcpy_same_slot", t->same_slot);
	bench_json_u64(&j, "memcpy_slot_checks", t->slot_checks);
	bench_json_end(&j);

	bench_json_obj(&j, "reserved");
	for (size_t s = 0; s < NSHAPE; s++) {
		const struct shape_result *r = &R->sh[s];

		bench_json_obj(&j, shapes[s].key);
		bench_json_u64(&j, "size", shapes[s].size);
		bench_json_u64(&j, "nsegments", (uint64_t)shapes[s].nseg);
		bench_json_u64(&j, "maps", shapes[s].n);
		/* Rise of the pool's in_use_bytes over all the maps. */
		bench_json_u64(&j, "allocnow_total", r->allocnow.total);
		bench_json_u64(&j, "isolate_total", r->isolate.total);
		bench_json_u64(&j, "lazy_idle_total", r->lazy_idle.total);
		bench_json_u64(&j, "lazy_loaded_total", r->lazy_loaded.total);
		bench_json_u64(&j, "openbsd_pages",
			       bl_openbsd_sev_map_pages(shapes[s].size,
							(unsigned)shapes[s].nseg));
		bench_json_end(&j);
	}
	bench_json_end(&j);

	bench_json_obj(&j, "isolation");
	for (size_t s = 0; s < NISO; s++) {
		snprintf(key, sizeof(key), "%zu", iso_sizes[s]);
		bench_json_obj(&j, key);
		bench_json_u64(&j, "maps", R->iso[s].dense.n);
		bench_json_u64(&j, "dense_total", R->iso[s].dense.total);
		bench_json_u64(&j, "isolate_total", R->iso[s].isolate.total);
		bench_json_num(&j, "isolate_over_dense", R->iso[s].ratio);
		bench_json_end(&j);
	}
	bench_json_end(&j);

	bench_json_num(&j, "elapsed_s", R->elapsed);
	bench_json_end(&j);
}

/* ------------------------------------------------------------------ */

static void busdma_usage(FILE *f)
{
	fprintf(f,
		"usage: ccdma-bench busdma [--json] [--quick]\n"
		"  the bus_dma(9) front-end: load + PREWRITE + POSTWRITE + unload of a\n"
		"  bounced 4 KiB buffer (lazy and ALLOCNOW maps) beside the dma layer's\n"
		"  map + unmap and memcpy; shared memory reserved per map (2 KiB,\n"
		"  64 KiB / 17 segments, 1 MiB; dense, ISOLATE, lazy) beside OpenBSD's\n"
		"  SEV rule; the cost of page isolation for 256 B .. 2 KiB maps.\n"
		"  --json    one JSON object on stdout (the table goes to stderr)\n"
		"  --quick   shorter runs (under a second or two)\n"
		"Exit status 0, or 1 on an internal error.\n");
}

int bench_busdma_main(int argc, char **argv)
{
	struct params P;
	struct results *R = calloc(1, sizeof(*R));
	struct env e;
	uint64_t t0 = bench_now_ns(), t;
	int rc;

	memset(&P, 0, sizeof(P));
	rc = bench_options(argc, argv, "busdma", busdma_usage, &P.json, &P.quick);
	if (rc >= 0) {
		free(R);
		return rc;
	}
	if (!R) {
		fprintf(stderr, "ccdma-bench busdma: out of memory\n");
		return 1;
	}
	P.batch = P.quick ? 500 : 1000;
	P.samples = P.quick ? 200 : 6000;
	P.warm = P.quick ? 3 : 20;

	ccdma_share_cost_set_ns(0);
	rc = env_setup(&e);
	t = bench_now_ns();
	if (!rc)
		rc = sec_time(&P, &e, &R->t);
	R->time_s = (double)(bench_now_ns() - t) / 1e9;
	t = bench_now_ns();
	if (!rc)
		rc = sec_resv(&e, R->sh, R->iso);
	R->resv_s = (double)(bench_now_ns() - t) / 1e9;
	env_teardown(&e);
	R->elapsed = (double)(bench_now_ns() - t0) / 1e9;
	if (rc || internal_errors) {
		fprintf(stderr, "ccdma-bench busdma: failed (%d, %d internal errors)\n", rc,
			internal_errors);
		free(R);
		return 1;
	}
	print_human(P.json ? stderr : stdout, &P, &e, R);
	if (P.json)
		print_json(stdout, &P, &e, R);
	free(R);
	return 0;
}
